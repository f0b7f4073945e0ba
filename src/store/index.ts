/**
 * @module store/index — the one Store over Kysely: embedded SQLite (better-sqlite3, the default)
 * or PostgreSQL (pg) for several nodes. `openStore` connects, checks the connection and brings
 * the schema up to date. Every query in the project is written once against `store.db`.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDialectConfig } from './kysely.js';
import type { Logger } from '../common/log.js';
import type { Database, StoreKind } from './schema.js';
import { migrateToLatest } from './migrate.js';

export type { Database, StoreKind } from './schema.js';
export { MigrationError } from './migrate.js';

export interface Store {
  db: Kysely<Database>;
  kind: StoreKind;
  /** Idempotent. */
  close(): Promise<void>;
}

export type StoreConfig = { sqlite: string } | { postgres: string };

export interface OpenStoreOptions {
  log?: Logger;
  /** PostgreSQL pool size (default 10). */
  poolMax?: number;
  /** Skip migrations (tests of the migrator itself). Default false. */
  skipMigrations?: boolean;
  /**
   * Refuse to create a database: a command that only reads (`inbound list`, `settings show`) given
   * the wrong config must say so, not leave an empty database behind. SQLite only (a PostgreSQL
   * database is created by its administrator anyway).
   */
  mustExist?: boolean;
}

/** A store that cannot be opened: `code` says which side to fix. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(readonly code: 'sqlite-open' | 'postgres-connect' | 'config' | 'no-database', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Opens the configured store and runs pending migrations.
 * @example
 * const store = await openStore({ sqlite: './data/tlsrpt.db' });
 * await store.db.selectFrom('meta').selectAll().execute();
 * await store.close();
 */
export async function openStore(config: StoreConfig, opts: OpenStoreOptions = {}): Promise<Store> {
  let store: Store;
  if ('sqlite' in config && config.sqlite) {
    if (opts.mustExist && !isMemory(config.sqlite) && !existsSync(config.sqlite)) {
      throw new StoreError('no-database', `no database at ${path.resolve(config.sqlite)} — is --config right? (\`tlsrpt serve\` creates it on first start)`);
    }
    store = await openSqlite(config.sqlite);
  }
  else if ('postgres' in config && config.postgres) store = await openPostgres(config.postgres, opts);
  else throw new StoreError('config', 'store config needs {"sqlite": FILE} or {"postgres": URL}');
  if (!opts.skipMigrations) {
    try {
      await migrateToLatest(store.db as Kysely<any>, store.kind, opts.log);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  return store;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

const isMemory = (file: string) => file === ':memory:' || file.startsWith('file::memory:');

// Each driver is loaded only when its store is used: pg costs a SQLite deployment ~5 MiB of memory.
async function openSqlite(file: string): Promise<Store> {
  const { default: SqliteDatabase } = await import('better-sqlite3');
  const memory = isMemory(file);
  let sqlite: SqliteDatabase.Database;
  try {
    if (!memory) makePrivate(file);
    sqlite = new SqliteDatabase(file);
    // WAL + busy_timeout: CLI commands read and write while `serve` runs on the same file.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    // The journal of acknowledged HTTP batches writes and deletes ~270 KB per 1,000 events: with
    // the default checkpoint every 1,000 pages the same pages are copied back over and over
    // (measured: 1.35 ms per batch, 0.75 ms with 10,000). The WAL may grow to ~40 MB between
    // checkpoints and is cut back to 64 MB at most after one.
    sqlite.pragma('wal_autocheckpoint = 10000');
    sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  } catch (e) {
    throw new StoreError('sqlite-open', `cannot open SQLite database ${file}: ${(e as Error).message}`, { cause: e });
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  return { db, kind: 'sqlite', close: once(() => db.destroy()) };
}

/**
 * The database holds raw reports and mail headers: the folder we create is 0700 and the
 * database file 0600 (created so before SQLite opens it; SQLite gives its -wal and -shm files
 * the database file's mode). Files left group/world-readable by an older version are narrowed.
 */
function makePrivate(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (file.startsWith('file:')) return;
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    try {
      if (statSync(f).mode & 0o077) chmodSync(f, 0o600);
    } catch {
      // not there (yet): created later with the database file's mode
    }
  }
}

const STATEMENT_CACHE = 256;

/**
 * Kysely's SQLite driver prepares every query anew; the hot paths (journal appends, counter
 * flushes, report builds) repeat the same few SQL texts thousands of times, and preparing costs
 * as much as running them. Prepared statements are reused by SQL text (SQLite re-prepares one
 * itself after a schema change). A statement still being iterated (a streaming query) is busy
 * and is not handed out again: that caller gets a fresh one.
 */
function cachingStatements(sqlite: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(sql: string) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) return hit;
      const stmt = sqlite.prepare(sql);
      if (!hit) {
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  } as SqliteDialectConfig['database'];
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function openPostgres(url: string, opts: OpenStoreOptions): Promise<Store> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: 10_000,
    // No JIT: every query here touches a few thousand rows at most, but on tables without fresh
    // statistics (a day's windows just written) the planner over-estimates, and JIT compiled
    // each 500-window counter read for 1.0-1.4 s (measured; the read itself takes ~0.1 s).
    options: '-c jit=off',
    // int8 (OID 20: bigint columns, count(*)) and numeric (1700: sum()) arrive as strings by
    // default; every such value here is a counter or an epoch second, well inside 2^53.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 || oid === 1700 ? (v: string) => (v === null ? null : Number(v)) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not kill the process; the next query reconnects.
  pool.on('error', (err) => opts.log?.warn({ err: err.message }, 'postgres idle client error'));
  // Nor a client held between statements (a transaction waiting on other work) when the server
  // restarts: without a listener its 'error' event ends the process. Its pending or next query
  // fails instead, and the pool drops it on release (it is no longer queryable).
  pool.on('connect', (client) => client.on('error', (err) => opts.log?.warn({ err: err.message }, 'postgres connection lost')));
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end().catch(() => {});
    const err = e as NodeJS.ErrnoException;
    throw new StoreError(
      'postgres-connect',
      `cannot connect to PostgreSQL at ${redactUrl(url)}: ${err.message || err.code || String(e)} — check "store.postgres" in the config (or TLSRPT_STORE) and that the server is running`,
      { cause: e },
    );
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: once(() => db.destroy()) };
}

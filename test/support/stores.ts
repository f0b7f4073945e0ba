/**
 * @module test/support/stores — run a store test on BOTH databases: `forEachStore(title, body)`
 * declares one `describe` for SQLite (a temp file per `open()`) and one for PostgreSQL (a fresh
 * `CREATE DATABASE` per `open()` in the run's throwaway cluster). Never skipped: when PostgreSQL
 * cannot start, `open()` throws and the test fails with the reason.
 */
import { after, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store, type StoreConfig, type StoreKind } from '../../src/store/index.js';
import { testPostgresUrl } from './postgres.js';

export interface TestStore extends Store {
  /** The config this store was opened with (to open a second connection on the same database). */
  config: StoreConfig;
}

export type OpenTestStore = (opts?: { skipMigrations?: boolean }) => Promise<TestStore>;

export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

let counter = 0;

/** A fresh empty database of the given kind; returns its store config. */
export async function freshDatabase(kind: StoreKind): Promise<{ config: StoreConfig; dispose(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-sqlite-'));
    return { config: { sqlite: path.join(dir, 'test.db') }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = await testPostgresUrl();
  const name = `t_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  // The cluster is thrown away at the end of the run; dropping each database is not needed.
  return { config: { postgres: u.toString() }, dispose: async () => {} };
}

/** Opens another connection on an existing test database (e.g. to test re-running migrations). */
export async function reopen(store: TestStore, opts?: { skipMigrations?: boolean }): Promise<TestStore> {
  const s = await openStore(store.config, { poolMax: 4, ...opts });
  return Object.assign(s, { config: store.config });
}

export function forEachStore(title: string, body: (open: OpenTestStore) => void): void {
  for (const kind of STORE_KINDS) {
    describe(`${title} [${kind}]`, () => {
      const opened: { store?: Store; dispose(): Promise<void> }[] = [];
      after(async () => {
        for (const o of opened.splice(0)) {
          await o.store?.close().catch(() => {});
          await o.dispose().catch(() => {});
        }
      });
      const open: OpenTestStore = async (opts) => {
        const fresh = await freshDatabase(kind);
        const entry: { store?: Store; dispose(): Promise<void> } = { dispose: fresh.dispose };
        opened.push(entry);
        const store = await openStore(fresh.config, { poolMax: 4, ...opts });
        entry.store = store;
        return Object.assign(store, { config: fresh.config });
      };
      body(open);
    });
  }
}

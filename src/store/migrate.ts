/**
 * @module store/migrate — runs the ordered migrations of `migrations/index.ts` with Kysely's
 * Migrator (a static provider, so nothing is read from disk at run time). Idempotent: applied
 * migrations are recorded in `kysely_migration`; on PostgreSQL the Migrator's lock table keeps
 * several nodes starting at once from migrating twice.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from './kysely.js';
import type { Logger } from '../common/log.js';
import type { StoreKind } from './schema.js';
import { migrations } from './migrations/index.js';

export class MigrationError extends Error {
  override name = 'MigrationError';
  constructor(message: string, readonly migration?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function provider(kind: StoreKind): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const m of migrations) out[m.name] = { up: (db) => m.module.up(db, kind) };
      return out;
    },
  };
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db: Kysely<any>, kind: StoreKind, log?: Logger): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: provider(kind),
    // Areas add their migrations independently; a database that already ran a later one
    // must still accept an earlier one added afterwards.
    allowUnorderedMigrations: true,
  });
  // Kysely's SQLite adapter has no migration lock (it assumes one process). `serve` and a CLI
  // command may open a fresh file at once, so take SQLite's write lock for the whole run: the
  // other process waits (busy_timeout), then finds nothing left to do. SQLite DDL is
  // transactional, so a failed migration leaves no half-made schema either.
  if (kind === 'sqlite') await sql`begin immediate`.execute(db);
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>;
  try {
    outcome = await migrator.migrateToLatest();
  } catch (e) {
    outcome = { error: e };
  }
  if (kind === 'sqlite') await sql.raw(outcome.error ? 'rollback' : 'commit').execute(db);
  const { error, results } = outcome;
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error) {
    const failed = (results ?? []).find((r) => r.status === 'Error')?.migrationName;
    const msg = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`schema migration ${failed ?? '(unknown)'} failed: ${msg}`, failed, { cause: error });
  }
  if (applied.length) log?.info({ applied }, 'store migrated');
  return applied;
}

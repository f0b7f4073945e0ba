/**
 * @module store/statistics — brings PostgreSQL's planner statistics up to date before a bulk step
 * works through rows whose share of their table changed moments ago (SQLite plans without them:
 * a no-op there).
 */
import { sql } from './kysely.js';
import type { Database, Store } from './index.js';

/**
 * ANALYZEs `tables` now instead of when autovacuum gets to them. Midnight's close turns a day's
 * windows from open to closed and writes a 'building' report row for each: autovacuum analyzes
 * up to `autovacuum_naptime` later (a minute), and on a table holding many past days not at all
 * (under 10% changed). Planned with statistics that know no open window or building report, each
 * batch of the close sorted every open window and each claim scanned every report still to build
 * (3× the SQLite build time for 100,000 domains). ANALYZE samples at most 30,000 rows whatever
 * the table's size. A table someone else is analyzing or vacuuming is skipped, not waited for;
 * one this role does not own is skipped by PostgreSQL with a warning.
 */
export async function analyzeTables(store: Store, tables: (keyof Database & string)[]): Promise<void> {
  if (store.kind !== 'postgres') return;
  await sql`analyze (skip_locked) ${sql.join(tables.map((t) => sql.table(t)))}`.execute(store.db);
}

/**
 * @module store/statistics — brings PostgreSQL's planner statistics up to date before a bulk step
 * reads rows written moments ago (SQLite plans without them: a no-op there).
 */
import { sql } from './kysely.js';
import type { Database, Store } from './index.js';

/**
 * ANALYZEs those of `tables` that autovacuum would analyze now (more rows changed since the last
 * analyze than `autovacuum_analyze_threshold` + `autovacuum_analyze_scale_factor` × rows), instead
 * of waiting up to `autovacuum_naptime` for it. Closing a day's windows writes 100,000 report rows
 * at once and the build starts on them at once: planned without statistics, the claims and
 * counter reads took bitmap scans and full sorts of every such row for each batch of 500 (one
 * build 3× slower than on SQLite). A table someone else is analyzing or vacuuming is skipped,
 * not waited for; one this role does not own is skipped by PostgreSQL with a warning.
 */
export async function refreshStatistics(store: Store, tables: (keyof Database & string)[]): Promise<void> {
  if (store.kind !== 'postgres') return;
  const stale = await sql<{ relname: string }>`select relname from pg_stat_user_tables
    where schemaname = current_schema() and relname = any(${tables})
      and n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
        + current_setting('autovacuum_analyze_scale_factor')::float8 * n_live_tup`.execute(store.db);
  if (stale.rows.length === 0) return;
  await sql`analyze (skip_locked) ${sql.join(stale.rows.map((r) => sql.table(r.relname)))}`.execute(store.db);
}

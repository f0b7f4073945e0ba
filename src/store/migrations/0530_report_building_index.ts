/**
 * @module store/migrations/0530_report_building_index — PostgreSQL: an index of the report rows
 * still to build, in id order, for the scheduler's claims (sending/schedule/claim.ts).
 *
 * Each claim of 500 took the first claimable rows of a sequential or bitmap scan. A built row's
 * old version stays behind as a dead tuple (and a dead `state = 'building'` entry of
 * `outbound_report_state_idx`) until vacuum, so every claim walked past the dead versions of all
 * reports built before it: 8 ms for the first batch of a 100,000-report day, 110 ms for the
 * last. An ordered scan of this index reads from the first row still to build, and marks the
 * dead entries it meets so the next claim skips them. SQLite keeps no dead versions and claims
 * without it.
 */
import { sql, type Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, kind: StoreKind): Promise<void> {
  if (kind !== 'postgres') return;
  await db.schema.createIndex('outbound_report_building_idx').ifNotExists().on('outbound_report').column('id')
    .where(sql.ref('state'), '=', sql.lit('building')).execute();
}

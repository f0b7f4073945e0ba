/** @module sending/schedule/claim — claims reports still to build (ours, or any whose builder's claim ran out), a batch at a time. */
import { sql } from '../../store/kysely.js';
import { writeTransaction } from '../../store/transaction.js';
import { BATCH, type SchedulerDeps } from './types.js';

const RETURNED = ['id', 'window_id', 'report_domain', 'window_start', 'window_end', 'due_at', 'created_at'] as const;

/** Claims up to BATCH reports still to build: ours, or any whose builder's claim ran out. */
export async function claimBuilding(deps: SchedulerDeps, lease: number, now: number, exclude: number[]) {
  const { store, nodeId } = deps;
  if (store.kind === 'postgres') return claimOnPostgres(deps, lease, now, exclude);
  const claimable = store.db.selectFrom('outbound_report').select('id')
    .where('state', '=', 'building')
    .where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', nodeId)]))
    .$if(exclude.length > 0, (q) => q.where('id', 'not in', exclude))
    // No ORDER BY: with 100,000 reports building, sorting them all for every batch of 500
    // would cost more than building; any 500 will do.
    .limit(BATCH);
  // No re-check of state and claim in the UPDATE: the CTE saw the same rows in the same
  // statement, and the check would walk every report still building for each batch.
  return writeTransaction(store, (trx) => trx.with((w) => w('claimable').materialized(), () => claimable).updateTable('outbound_report')
    .set({ claimed_by: nodeId, claimed_until: now + lease })
    .where('id', 'in', (eb) => eb.selectFrom('claimable').select('claimable.id'))
    .returning([...RETURNED])
    .execute());
}

/**
 * PostgreSQL: the rows are locked (SKIP LOCKED: another node's claim takes other rows), and the
 * claim is written only where it is another node's that ran out or ours with less than half the
 * lease left. A day's report rows are created claimed by the node that closed their windows,
 * with a full lease: claiming them again wrote a second version of each 100,000 rows (and of
 * its four index entries) for nothing.
 */
async function claimOnPostgres(deps: SchedulerDeps, lease: number, now: number, exclude: number[]) {
  const { store, nodeId } = deps;
  const claimable = store.db.selectFrom('outbound_report').select([...RETURNED, 'claimed_until'])
    .where('state', '=', 'building')
    .where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', nodeId)]))
    .$if(exclude.length > 0, (q) => q.where(sql<boolean>`id <> all(${exclude}::bigint[])`))
    // In id order, from the partial index of rows still to build (migration 0530): it starts
    // past the reports built already, where an unordered scan walked over the dead versions
    // of all of them for each batch.
    .orderBy('id')
    .limit(BATCH)
    .forUpdate()
    .skipLocked();
  // Materialized, so PostgreSQL locks BATCH rows once (see close.ts). The claimed rows are
  // returned as locked: the renewal does not change what is returned.
  return writeTransaction(store, (trx) => trx
    .with((w) => w('claimable').materialized(), () => claimable)
    .with('renewed', (db) => db.updateTable('outbound_report')
      .set({ claimed_by: nodeId, claimed_until: now + lease })
      .where('id', 'in', (eb) => eb.selectFrom('claimable').select('claimable.id').where('claimable.claimed_until', '<', now + Math.floor(lease / 2))))
    .selectFrom('claimable')
    .select([...RETURNED])
    .execute());
}

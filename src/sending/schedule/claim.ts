/** @module sending/schedule/claim — claims reports still to build (ours, or any whose builder's claim ran out), a batch at a time. */
import { writeTransaction } from '../../store/transaction.js';
import { BATCH, type SchedulerDeps } from './types.js';

/** Claims up to BATCH reports still to build: ours, or any whose builder's claim ran out. */
export async function claimBuilding(deps: SchedulerDeps, lease: number, now: number, exclude: number[]) {
  const { store, nodeId } = deps;
  const claimable = store.db.selectFrom('outbound_report').select('id')
    .where('state', '=', 'building')
    .where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', nodeId)]))
    .$if(exclude.length > 0, (q) => q.where('id', 'not in', exclude))
    // No ORDER BY: with 100,000 reports building, sorting them all for every batch of 500
    // would cost more than building; any 500 will do.
    .limit(BATCH)
    .$if(store.kind === 'postgres', (q) => q.forUpdate().skipLocked());
  // Materialized, so PostgreSQL claims BATCH rows, not all (see close.ts).
  return writeTransaction(store, (trx) => trx.with((w) => w('claimable').materialized(), () => claimable).updateTable('outbound_report')
    .set({ claimed_by: nodeId, claimed_until: now + lease })
    .where('id', 'in', (eb) => eb.selectFrom('claimable').select('claimable.id'))
    // Re-checked on PostgreSQL only, as in closeDueWindows (on SQLite the check would walk
    // every report still building for each batch).
    .$if(store.kind === 'postgres', (q) => q.where('state', '=', 'building')
      .where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', nodeId)])))
    .returning(['id', 'window_id', 'report_domain', 'window_start', 'window_end', 'due_at', 'created_at'])
    .execute());
}

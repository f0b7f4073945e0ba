/**
 * @module sending/schedule/close — closes reporting windows whose UTC end has passed and creates
 * their report rows ('building'), claimed by the closing node, with a random due time inside
 * `delivery.spreadSeconds` (RFC 8460 §4.1: spread the load on receivers).
 */
import { writeTransaction } from '../../store/transaction.js';
import { bulkInsert, type BulkColumn } from '../../store/bulk-insert.js';
import { analyzeTables } from '../../store/statistics.js';
import { CLOSE_BATCH, type SchedulerDeps } from './types.js';

/** The report rows of closed windows (state 'building'), claimed by the closing node: 18,000 SQLite parameters for CLOSE_BATCH. */
const REPORT_ROW_COLS: BulkColumn[] = [
  ['window_id', 'int'], ['report_domain', 'text'], ['window_start', 'int'], ['window_end', 'int'], ['due_at', 'int'], ['created_at', 'int'],
  ['claimed_by', 'text'], ['claimed_until', 'int'], ['state', 'text'],
];

/** Closes windows whose UTC end has passed and creates their report rows, claimed by this process. */
export async function closeDueWindows(deps: SchedulerDeps, lease: number, opts: { force?: boolean } = {}): Promise<number> {
  const { store, nodeId } = deps;
  let total = 0;
  for (;;) {
    const now = deps.clock();
    const closedNow = await writeTransaction(store, async (trx) => {
      const due = trx.selectFrom('outbound_window').select('id')
        .where('state', '=', 'open')
        .$if(!opts.force, (q) => q.where('window_end', '<=', now))
        // Oldest first, straight from the (state, window_end) index: a tie-break on id would
        // sort every window of the day for each batch.
        .orderBy('window_end')
        .limit(CLOSE_BATCH)
        // A collector flush holds the row FOR SHARE while it counts into it; skip such a
        // window now and close it on the next tick, after the flush committed.
        .$if(store.kind === 'postgres', (q) => q.forUpdate().skipLocked());
      // A materialized CTE: PostgreSQL runs it once. As `IN (subquery)` it may rescan the
      // subquery for every row it updates, each rescan skipping the rows already updated and
      // locking the next CLOSE_BATCH, so one statement took every due window.
      const rows = await trx.with((w) => w('due').materialized(), () => due).updateTable('outbound_window')
        .set({ state: 'closed', closed_at: now })
        .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
        // PostgreSQL: re-checked on the locked row. SQLite: the CTE saw the same rows in the
        // same statement, and the check would make it walk the (state, …) index over every
        // open window for each batch instead of looking up the batch's ids.
        .$if(store.kind === 'postgres', (q) => q.where('state', '=', 'open'))
        .returning(['id', 'report_domain', 'window_start', 'window_end'])
        .execute();
      if (rows.length === 0) return 0;
      const spread = opts.force ? 0 : deps.spreadSeconds;
      const reportRows = rows.map((w) => [
        Number(w.id), w.report_domain, Number(w.window_start), Number(w.window_end), now + Math.floor(deps.random() * (spread + 1)), now, nodeId, now + lease, 'building',
      ]);
      await trx.executeQuery(bulkInsert(store.kind, 'outbound_report', REPORT_ROW_COLS, reportRows, 'on conflict (window_id) do nothing'));
      return rows.length;
    });
    total += closedNow;
    if (closedNow < CLOSE_BATCH) break;
    // More than a batch due: the other batches are planned knowing how many.
    if (total === CLOSE_BATCH) await analyzeTables(store, ['outbound_window']);
  }
  if (total) deps.log.info({ windows: total }, 'reporting windows closed');
  return total;
}

/**
 * @module sending/schedule/close — closes reporting windows whose UTC end has passed and creates
 * their report rows ('building'), claimed by the closing node, with a random due time inside
 * `delivery.spreadSeconds` (RFC 8460 §4.1: spread the load on receivers).
 */
import { sql } from '../../store/kysely.js';
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
  const { store } = deps;
  const force = Boolean(opts.force);
  let total = 0;
  for (;;) {
    const now = deps.clock();
    const closedNow = store.kind === 'postgres' ? await closeBatchOnPostgres(deps, lease, now, force) : await closeBatchOnSqlite(deps, lease, now, force);
    total += closedNow;
    if (closedNow < CLOSE_BATCH) break;
    // More than a batch due: the other batches are planned knowing how many.
    if (total === CLOSE_BATCH) await analyzeTables(store, ['outbound_window']);
  }
  if (total) deps.log.info({ windows: total }, 'reporting windows closed');
  return total;
}

/** SQLite: one batch closed (oldest first) and its report rows created, in one write transaction. */
function closeBatchOnSqlite(deps: SchedulerDeps, lease: number, now: number, force: boolean): Promise<number> {
  const { store, nodeId } = deps;
  return writeTransaction(store, async (trx) => {
    const due = trx.selectFrom('outbound_window').select('id')
      .where('state', '=', 'open')
      .$if(!force, (q) => q.where('window_end', '<=', now))
      // Oldest first, straight from the (state, window_end) index: a tie-break on id would
      // sort every window of the day for each batch.
      .orderBy('window_end')
      .limit(CLOSE_BATCH);
    // No re-check of the state in the UPDATE: the CTE saw the same rows in the same statement,
    // and the check would make it walk the (state, …) index over every open window for each
    // batch instead of looking up the batch's ids.
    const rows = await trx.with((w) => w('due').materialized(), () => due).updateTable('outbound_window')
      .set({ state: 'closed', closed_at: now })
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      .returning(['id', 'report_domain', 'window_start', 'window_end'])
      .execute();
    if (rows.length === 0) return 0;
    const spread = force ? 0 : deps.spreadSeconds;
    const reportRows = rows.map((w) => [
      Number(w.id), w.report_domain, Number(w.window_start), Number(w.window_end), now + Math.floor(deps.random() * (spread + 1)), now, nodeId, now + lease, 'building',
    ]);
    await trx.executeQuery(bulkInsert(store.kind, 'outbound_report', REPORT_ROW_COLS, reportRows, 'on conflict (window_id) do nothing'));
    return rows.length;
  });
}

/**
 * PostgreSQL: one batch closed (oldest first) and its report rows created by one statement, the
 * closed rows going from the UPDATE's RETURNING straight into the INSERT (no round trip, no JSON
 * of 2,000 rows built here and parsed there). The due windows are locked with SKIP LOCKED: a
 * collector flush holds the row FOR SHARE while it counts into it; such a window is closed on a
 * later tick, after the flush committed. The lock is taken in a materialized CTE: as
 * `IN (subquery)` PostgreSQL may rescan the subquery for every row it updates, each rescan
 * skipping the rows already updated and locking the next CLOSE_BATCH, so one statement took
 * every due window. The state is re-checked on the locked row. The due times' spread is drawn
 * here as on SQLite, for a whole batch, and taken in the order the rows come back.
 */
async function closeBatchOnPostgres(deps: SchedulerDeps, lease: number, now: number, force: boolean): Promise<number> {
  const spread = force ? 0 : deps.spreadSeconds;
  const offsets = spread > 0 ? Array.from({ length: CLOSE_BATCH }, () => Math.floor(deps.random() * (spread + 1))) : [];
  const r = await sql<{ n: number }>`with due as materialized (
      select id from outbound_window where state = 'open' ${force ? sql`` : sql`and window_end <= ${now}`}
      order by window_end limit ${CLOSE_BATCH} for update skip locked),
    closed as (update outbound_window set state = 'closed', closed_at = ${now}
      where id in (select id from due) and state = 'open' returning id, report_domain, window_start, window_end),
    reports as (insert into outbound_report (window_id, report_domain, window_start, window_end, due_at, created_at, claimed_by, claimed_until, state)
      select id, report_domain, window_start, window_end, ${now}::bigint + coalesce((${offsets}::bigint[])[n], 0), ${now}, ${deps.nodeId}, ${now + lease}, 'building'
      from (select closed.*, row_number() over () as n from closed) c
      on conflict (window_id) do nothing)
    select count(*)::int as n from closed`.execute(deps.store.db);
  return r.rows[0]!.n;
}

/**
 * @module sending/schedule/store-built — writes a batch's build results in one transaction,
 * each row only while this node still holds its claim, so a report is built once whichever node
 * builds it.
 */
import { CompiledQuery } from 'kysely';
import type { StoreKind } from '../../store/index.js';
import { writeTransaction } from '../../store/transaction.js';
import { bulkInsert, type BulkColumn } from '../../store/bulk-insert.js';
import { deliveryMetrics } from '../deliver/metrics.js';
import { BATCH, DNS_RETRY_SECONDS, type Built, type ClaimedReport, type SchedulerDeps } from './types.js';
import { at } from '../../common/checked.js';

/**
 * Rows per multi-row statement of the store step: 15 parameters a built report, well inside
 * SQLite's 32,766 and PostgreSQL's 65,535 parameters a statement.
 */
const MULTI_ROW = BATCH;

/** `(?, ?, …), (…)` (PostgreSQL: `($1, $2, …)`): `rows` tuples of `cols` parameters, each followed by `tail`. */
function tuples(kind: StoreKind, rows: number, cols: number, tail = ''): string {
  const out: string[] = new Array(rows);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const ps: string[] = new Array(cols);
    for (let c = 0; c < cols; c++) ps[c] = kind === 'postgres' ? `$${++n}` : '?';
    out[r] = `(${ps.join(', ')}${tail})`;
  }
  return out.join(', ');
}

/**
 * Upsert of built reports onto their rows while this node's claim holds: 15 parameters a row,
 * then the node id. (Not `bulkInsert`: `gz` is bytes, which PostgreSQL's JSON path cannot carry,
 * and the claim check takes a parameter.) The text of a full batch is kept per dialect, so
 * SQLite reuses its prepared statement; a short batch (the last of a run) builds its own.
 */
const upsertTexts = new Map<StoreKind, string>();
function upsertBuiltSql(kind: StoreKind, rows: number): string {
  const full = rows === MULTI_ROW ? upsertTexts.get(kind) : undefined;
  if (full) return full;
  const text = 'insert into outbound_report (id, window_id, report_domain, window_start, window_end, created_at, '
    + 'report_id, json_bytes, gz, file_name, record_source, tlsrpt_record, trimmed_details, built_at, due_at, state, reason, claimed_by, claimed_until) '
    + `values ${tuples(kind, rows, 15, ", 'pending', null, null, 0")} `
    + 'on conflict (id) do update set state = excluded.state, report_id = excluded.report_id, json_bytes = excluded.json_bytes, gz = excluded.gz, '
    + 'file_name = excluded.file_name, record_source = excluded.record_source, tlsrpt_record = excluded.tlsrpt_record, '
    + 'trimmed_details = excluded.trimmed_details, built_at = excluded.built_at, due_at = excluded.due_at, reason = excluded.reason, '
    + 'claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until '
    + `where outbound_report.claimed_by = ${kind === 'postgres' ? `$${rows * 15 + 1}` : '?'} and outbound_report.state = 'building' returning id`;
  if (rows === MULTI_ROW) upsertTexts.set(kind, text);
  return text;
}

/** A report's targets, pending from its due time. */
const TARGET_COLS: BulkColumn[] = [['outbound_report_id', 'int'], ['uri', 'text'], ['scheme', 'text'], ['next_attempt_at', 'int'], ['state', 'text']];

/**
 * Writes a batch's results in one transaction, each row only while this process still holds
 * its claim. Built reports go in as one multi-row upsert on their existing rows (`ON CONFLICT
 * (id) DO UPDATE … WHERE claimed_by = me`); RETURNING names the rows whose claim held, and only
 * those get targets, in one multi-row insert. Those two statements are written as SQL text
 * (one text per row count, so SQLite reuses its prepared statement): built through the query
 * builder, their 7,500 values cost more to assemble than to execute.
 */
export async function storeBuilt(deps: SchedulerDeps, rows: ClaimedReport[], results: Built[]): Promise<void> {
  const { nodeId } = deps;
  const kind = deps.store.kind;
  const now = deps.clock();
  const kept = new Set<number>();
  const pendingIds = new Set<number>();
  await writeTransaction(deps.store, async (trx) => {
    const mine = <Q extends { where: (...a: any[]) => Q }>(q: Q, id: number) => q.where('id', '=', id).where('claimed_by', '=', nodeId).where('state', '=', 'building');
    const pending: { row: ClaimedReport; b: Built }[] = [];
    for (const [i, b] of results.entries()) {
      const row = at(rows, i);
      const id = row.id;
      if (b.finish) {
        const u = await mine(trx.updateTable('outbound_report').set({ ...b.finish, built_at: now, claimed_by: null, claimed_until: 0 }), id).executeTakeFirst();
        if (Number(u.numUpdatedRows) === 1) kept.add(id);
      } else if (b.defer !== undefined) {
        const u = await mine(trx.updateTable('outbound_report').set({ claimed_by: null, claimed_until: now + DNS_RETRY_SECONDS, reason: b.defer.slice(0, 500) }), id).executeTakeFirst();
        if (Number(u.numUpdatedRows) === 1) kept.add(id);
      } else if (b.pending) pending.push({ row, b });
    }
    for (let i = 0; i < pending.length; i += MULTI_ROW) {
      const chunk = pending.slice(i, i + MULTI_ROW);
      const params: unknown[] = [];
      for (const { row, b } of chunk) {
        const p = b.pending!;
        params.push(row.id, row.windowId, row.reportDomain, row.windowStart, row.windowEnd, row.createdAt,
          p.report_id, p.json_bytes, p.gz, p.file_name, p.record_source, p.tlsrpt_record, p.trimmed_details, now, row.dueAt);
      }
      params.push(nodeId);
      const updated = await trx.executeQuery<{ id: number }>(CompiledQuery.raw(upsertBuiltSql(kind, chunk.length), params));
      for (const u of updated.rows) pendingIds.add(Number(u.id));
    }
    const targetRows: unknown[][] = [];
    for (const { row, b } of pending) {
      if (!pendingIds.has(row.id)) continue;
      kept.add(row.id);
      for (const t of b.pending!.targets) targetRows.push([row.id, t.uri, t.scheme, row.dueAt, 'pending']);
    }
    for (let i = 0; i < targetRows.length; i += MULTI_ROW) {
      await trx.executeQuery(bulkInsert(kind, 'outbound_target', TARGET_COLS, targetRows.slice(i, i + MULTI_ROW), 'on conflict (outbound_report_id, uri) do nothing'));
    }
  });
  for (const b of results) {
    if (!kept.has(b.outcome.reportRowId)) b.outcome = { ...b.outcome, state: 'deferred', reason: 'claim lost to another process' };
    else if (b.pending) {
      deliveryMetrics.reportsBuilt.inc();
      deps.log.info({ reportDomain: b.outcome.reportDomain, reportId: b.outcome.reportId, targets: b.outcome.targets, dueAt: b.dueAt }, 'report built');
    }
  }
}

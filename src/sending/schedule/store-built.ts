/**
 * @module sending/schedule/store-built — writes a batch's build results in one transaction,
 * each row only while this node still holds its claim, so a report is built once whichever node
 * builds it.
 */
import { CompiledQuery } from '../../store/kysely.js';
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

/** `(?, ?, …), (…)`: `rows` tuples of `cols` parameters, each followed by `tail`. */
function tuples(rows: number, cols: number, tail = ''): string {
  const tuple = `(${new Array(cols).fill('?').join(', ')}${tail})`;
  return new Array(rows).fill(tuple).join(', ');
}

/**
 * SQLite: upsert of built reports onto their rows while this node's claim holds, 15 parameters
 * a row, then the node id. (Not `bulkInsert`: the claim check takes a parameter.) The text of a
 * full batch is kept, so SQLite reuses its prepared statement; a short batch builds its own.
 */
let fullUpsertText: string | undefined;
function upsertBuiltSql(rows: number): string {
  if (rows === MULTI_ROW && fullUpsertText) return fullUpsertText;
  const text = 'insert into outbound_report (id, window_id, report_domain, window_start, window_end, created_at, '
    + 'report_id, json_bytes, gz, file_name, record_source, tlsrpt_record, trimmed_details, built_at, due_at, state, reason, claimed_by, claimed_until) '
    + `values ${tuples(rows, 15, ", 'pending', null, null, 0")} `
    + 'on conflict (id) do update set state = excluded.state, report_id = excluded.report_id, json_bytes = excluded.json_bytes, gz = excluded.gz, '
    + 'file_name = excluded.file_name, record_source = excluded.record_source, tlsrpt_record = excluded.tlsrpt_record, '
    + 'trimmed_details = excluded.trimmed_details, built_at = excluded.built_at, due_at = excluded.due_at, reason = excluded.reason, '
    + 'claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until '
    + "where outbound_report.claimed_by = ? and outbound_report.state = 'building' returning id";
  if (rows === MULTI_ROW) fullUpsertText = text;
  return text;
}

/**
 * PostgreSQL: the same upsert with one array parameter per column expanded by `unnest`. The
 * text is the same for every batch size (PostgreSQL parses and plans a short statement instead
 * of 7,500 placeholders each time), and it takes one array per column, not a parameter per value.
 */
const UPSERT_BUILT_PG = 'insert into outbound_report (id, window_id, report_domain, window_start, window_end, created_at, '
  + 'report_id, json_bytes, gz, file_name, record_source, tlsrpt_record, trimmed_details, built_at, due_at, state, reason, claimed_by, claimed_until) '
  + "select t.*, 'pending', null, null, 0 from unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], "
  + '$7::text[], $8::bigint[], $9::bytea[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[]) as t '
  + 'on conflict (id) do update set state = excluded.state, report_id = excluded.report_id, json_bytes = excluded.json_bytes, gz = excluded.gz, '
  + 'file_name = excluded.file_name, record_source = excluded.record_source, tlsrpt_record = excluded.tlsrpt_record, '
  + 'trimmed_details = excluded.trimmed_details, built_at = excluded.built_at, due_at = excluded.due_at, reason = excluded.reason, '
  + 'claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until '
  + "where outbound_report.claimed_by = $16 and outbound_report.state = 'building' returning id";

/** The 15 values of each row as one array per column, then the node id: UPSERT_BUILT_PG's parameters. */
function columnParams(rowsOfValues: unknown[][], nodeId: string): unknown[] {
  const cols: unknown[][] = Array.from({ length: 15 }, () => new Array(rowsOfValues.length));
  rowsOfValues.forEach((values, r) => values.forEach((v, c) => { at(cols, c)[r] = v; }));
  return [...cols, nodeId];
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
      const values = chunk.map(({ row, b }) => {
        const p = b.pending!;
        return [row.id, row.windowId, row.reportDomain, row.windowStart, row.windowEnd, row.createdAt,
          p.report_id, p.json_bytes, p.gz, p.file_name, p.record_source, p.tlsrpt_record, p.trimmed_details, now, row.dueAt];
      });
      const query = kind === 'postgres'
        ? CompiledQuery.raw(UPSERT_BUILT_PG, columnParams(values, nodeId))
        : CompiledQuery.raw(upsertBuiltSql(chunk.length), [...values.flat(), nodeId]);
      const updated = await trx.executeQuery<{ id: number }>(query);
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

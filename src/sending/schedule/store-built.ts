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
 * PostgreSQL: one statement per chunk writes the built reports onto their rows while this node's
 * claim holds (the upsert SQLite runs) and inserts the targets of the rows its RETURNING names.
 * Each column is one array parameter expanded by `unnest`, so the text is the same for every
 * chunk and PostgreSQL parses a short statement, not thousands of placeholders. The gzips travel
 * as ONE bytea parameter (sent in binary) cut by offset and length: as a bytea[] array the
 * driver wrote each one out in hex and escaped it, the largest cost of the store step on the
 * Node side. An upsert, not UPDATE … FROM unnest: its conflict check finds each row by primary
 * key whatever the statistics say, where the join, planned with none on a day's new rows,
 * scanned all of them once per report (8 s a batch, measured).
 */
const STORE_BUILT_PG = 'with built as (insert into outbound_report (id, window_id, report_domain, window_start, window_end, created_at, '
  + 'report_id, json_bytes, gz, file_name, record_source, tlsrpt_record, trimmed_details, built_at, due_at, state, reason, claimed_by, claimed_until) '
  + "select t.id, t.window_id, t.report_domain, t.window_start, t.window_end, t.created_at, t.report_id, t.json_bytes, substr($17::bytea, t.gz_at, t.gz_len), "
  + "t.file_name, t.record_source, t.tlsrpt_record, t.trimmed_details, $18, t.due_at, 'pending', null, null, 0 "
  + 'from unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::int[], $10::int[], '
  + '$11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[]) as t(id, window_id, report_domain, window_start, window_end, created_at, '
  + 'report_id, json_bytes, gz_at, gz_len, file_name, record_source, tlsrpt_record, trimmed_details, due_at) '
  + 'on conflict (id) do update set state = excluded.state, report_id = excluded.report_id, json_bytes = excluded.json_bytes, gz = excluded.gz, '
  + 'file_name = excluded.file_name, record_source = excluded.record_source, tlsrpt_record = excluded.tlsrpt_record, '
  + 'trimmed_details = excluded.trimmed_details, built_at = excluded.built_at, due_at = excluded.due_at, reason = excluded.reason, '
  + 'claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until '
  + "where outbound_report.claimed_by = $16 and outbound_report.state = 'building' returning id, due_at), "
  + 'targets as (insert into outbound_target (outbound_report_id, uri, scheme, next_attempt_at, state) '
  + "select b.id, u.uri, u.scheme, b.due_at, 'pending' from unnest($19::bigint[], $20::text[], $21::text[]) as u(report, uri, scheme) "
  + 'join built b on b.id = u.report on conflict (outbound_report_id, uri) do nothing) '
  + 'select id from built';

/** A chunk's gzips in one buffer on PostgreSQL: well inside its 1 GB limit on a value. */
const PG_GZ_BYTES = 64 * 1024 * 1024;

/** STORE_BUILT_PG's parameters for a chunk of built reports. */
function storeBuiltPg(chunk: { row: ClaimedReport; b: Built }[], now: number, nodeId: string): CompiledQuery {
  const n = chunk.length;
  const cols = Array.from({ length: 15 }, () => new Array<unknown>(n));
  const [ids, windowIds, domains, starts, ends, createdAt, reportIds, jsonBytes, gzAt, gzLen, fileNames, sources, records, trimmed, dueAt] = cols;
  const targets: unknown[][] = [[], [], []];
  let offset = 1;
  chunk.forEach(({ row, b }, i) => {
    const p = b.pending!;
    ids![i] = row.id; windowIds![i] = row.windowId; domains![i] = row.reportDomain; starts![i] = row.windowStart; ends![i] = row.windowEnd;
    createdAt![i] = row.createdAt; reportIds![i] = p.report_id; jsonBytes![i] = p.json_bytes; gzAt![i] = offset; gzLen![i] = p.gz.length;
    fileNames![i] = p.file_name; sources![i] = p.record_source; records![i] = p.tlsrpt_record; trimmed![i] = p.trimmed_details; dueAt![i] = row.dueAt;
    offset += p.gz.length;
    for (const t of p.targets) {
      targets[0]!.push(row.id);
      targets[1]!.push(t.uri);
      targets[2]!.push(t.scheme);
    }
  });
  const gz = Buffer.concat(chunk.map(({ b }) => b.pending!.gz), offset - 1);
  return CompiledQuery.raw(STORE_BUILT_PG, [...cols, nodeId, gz, now, ...targets]);
}

/**
 * PostgreSQL: the reports of a batch that end without a file (dropped, skipped) or wait for DNS
 * (deferred, still 'building') in one upsert onto their rows while this node's claim holds, not
 * one statement and round trip each: on a real day most domains publish no TLSRPT record. An
 * upsert for the reason STORE_BUILT_PG is one; a null record_source or built_at keeps the row's.
 */
const ENDED_PG = 'insert into outbound_report (id, window_id, report_domain, window_start, window_end, created_at, due_at, '
  + 'state, reason, record_source, built_at, claimed_until, claimed_by) '
  + 'select t.*, null from unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], '
  + '$8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[]) as t '
  + 'on conflict (id) do update set state = excluded.state, reason = excluded.reason, '
  + 'record_source = coalesce(excluded.record_source, outbound_report.record_source), built_at = coalesce(excluded.built_at, outbound_report.built_at), '
  + 'claimed_by = null, claimed_until = excluded.claimed_until '
  + "where outbound_report.claimed_by = $13 and outbound_report.state = 'building' returning id";

/** ENDED_PG's parameters: finished reports end their claim, deferred ones release it until the DNS retry. */
function endedPg(ended: { row: ClaimedReport; b: Built }[], now: number, nodeId: string): CompiledQuery {
  const cols = Array.from({ length: 12 }, () => new Array<unknown>(ended.length));
  ended.forEach(({ row, b }, i) => {
    const values = [row.id, row.windowId, row.reportDomain, row.windowStart, row.windowEnd, row.createdAt, row.dueAt,
      ...(b.finish
        ? [b.finish.state, b.finish.reason, b.finish.record_source ?? null, now, 0]
        : ['building', b.defer!.slice(0, 500), null, null, now + DNS_RETRY_SECONDS])];
    values.forEach((v, c) => { at(cols, c)[i] = v; });
  });
  return CompiledQuery.raw(ENDED_PG, [...cols, nodeId]);
}

/** SQLite: a report's targets, pending from its due time. */
const TARGET_COLS: BulkColumn[] = [['outbound_report_id', 'int'], ['uri', 'text'], ['scheme', 'text'], ['next_attempt_at', 'int'], ['state', 'text']];

/**
 * Writes a batch's results in one transaction, each row only while this process still holds
 * its claim. Reports ended without a file or deferred: SQLite one UPDATE each, PostgreSQL one
 * ENDED_PG for the batch. Built reports go in as one multi-row statement on their existing rows (SQLite:
 * `ON CONFLICT (id) DO UPDATE … WHERE claimed_by = me`, then the targets of the rows RETURNING
 * named in one multi-row insert; PostgreSQL: STORE_BUILT_PG, both in one statement). They are
 * written as SQL text (one text per row count, so SQLite reuses its prepared statement): built
 * through the query builder, their 7,500 values cost more to assemble than to execute.
 */
export async function storeBuilt(deps: SchedulerDeps, rows: ClaimedReport[], results: Built[]): Promise<void> {
  const { nodeId } = deps;
  const kind = deps.store.kind;
  const now = deps.clock();
  const kept = new Set<number>();
  const pendingIds = new Set<number>();
  await writeTransaction(deps.store, async (trx) => {
    const pending: { row: ClaimedReport; b: Built }[] = [];
    const ended: { row: ClaimedReport; b: Built }[] = [];
    for (const [i, b] of results.entries()) {
      if (b.finish || b.defer !== undefined) ended.push({ row: at(rows, i), b });
      else if (b.pending) pending.push({ row: at(rows, i), b });
    }
    if (kind === 'postgres') {
      if (ended.length) for (const u of (await trx.executeQuery<{ id: number }>(endedPg(ended, now, nodeId))).rows) kept.add(Number(u.id));
      for (let i = 0; i < pending.length;) {
        // Up to MULTI_ROW reports, fewer when their gzips would pass PG_GZ_BYTES (at least one).
        let end = i + 1;
        for (let bytes = at(pending, i).b.pending!.gz.length; end < Math.min(pending.length, i + MULTI_ROW); end++) {
          bytes += at(pending, end).b.pending!.gz.length;
          if (bytes > PG_GZ_BYTES) break;
        }
        const updated = await trx.executeQuery<{ id: number }>(storeBuiltPg(pending.slice(i, end), now, nodeId));
        for (const u of updated.rows) kept.add(Number(u.id));
        i = end;
      }
      return;
    }
    const mine = <Q extends { where: (...a: any[]) => Q }>(q: Q, id: number) => q.where('id', '=', id).where('claimed_by', '=', nodeId).where('state', '=', 'building');
    for (const { row: { id }, b } of ended) {
      const u = await mine(b.finish
        ? trx.updateTable('outbound_report').set({ ...b.finish, built_at: now, claimed_by: null, claimed_until: 0 })
        : trx.updateTable('outbound_report').set({ claimed_by: null, claimed_until: now + DNS_RETRY_SECONDS, reason: b.defer!.slice(0, 500) }), id).executeTakeFirst();
      if (Number(u.numUpdatedRows) === 1) kept.add(id);
    }
    for (let i = 0; i < pending.length; i += MULTI_ROW) {
      const chunk = pending.slice(i, i + MULTI_ROW);
      const values = chunk.map(({ row, b }) => {
        const p = b.pending!;
        return [row.id, row.windowId, row.reportDomain, row.windowStart, row.windowEnd, row.createdAt,
          p.report_id, p.json_bytes, p.gz, p.file_name, p.record_source, p.tlsrpt_record, p.trimmed_details, now, row.dueAt];
      });
      const updated = await trx.executeQuery<{ id: number }>(CompiledQuery.raw(upsertBuiltSql(chunk.length), [...values.flat(), nodeId]));
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

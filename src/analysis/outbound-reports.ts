/**
 * @module analysis/outbound-reports — reading the built reports and their targets' delivery
 * state, for `tlsrpt outbound list` and `GET /api/v1/outbound/reports`.
 */
import type { Store } from '../store/index.js';
import type { OutboundReportState, OutboundTargetState } from '../store/tables/delivery.js';
import { isoSeconds } from '../common/time.js';
import { normalizeDomain } from '../common/domain.js';

export interface TargetView {
  uri: string;
  state: OutboundTargetState;
  attempts: number;
  nextAttemptAt?: number;
  lastAttemptAt?: number;
  lastError?: string;
  sentAt?: number;
  sentDetail?: string;
}

export interface ReportView {
  id: number;
  reportId?: string;
  reportDomain: string;
  windowStart: number;
  windowEnd: number;
  state: OutboundReportState;
  reason?: string;
  dueAt: number;
  createdAt: number;
  recordSource?: string;
  trimmedDetails: number;
  bytes?: number;
  targets: TargetView[];
}

export interface ReportFilter {
  reportDomain?: string;
  states?: OutboundReportState[];
  /** Newest first; default 100, at most 1000. */
  limit?: number;
  /** Only reports with id below this (paging). */
  beforeId?: number;
}

/** The newest reports (by id) with their targets. */
export async function listReports(store: Store, f: ReportFilter = {}): Promise<ReportView[]> {
  const limit = Math.min(1000, Math.max(1, f.limit ?? 100));
  let q = store.db.selectFrom('outbound_report')
    .select(['id', 'report_id', 'report_domain', 'window_start', 'window_end', 'state', 'reason', 'due_at', 'created_at', 'record_source', 'trimmed_details'])
    .select('json_bytes as bytes');
  if (f.reportDomain) q = q.where('report_domain', '=', normalizeDomain(f.reportDomain));
  if (f.states?.length) q = q.where('state', 'in', f.states);
  if (f.beforeId) q = q.where('id', '<', f.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  if (rows.length === 0) return [];
  const targets = await store.db.selectFrom('outbound_target')
    .select(['outbound_report_id', 'uri', 'state', 'attempts', 'next_attempt_at', 'last_attempt_at', 'last_error', 'sent_at', 'sent_detail'])
    .where('outbound_report_id', 'in', rows.map((r) => Number(r.id)))
    .orderBy('id')
    .execute();
  const byReport = new Map<number, TargetView[]>();
  for (const t of targets) {
    const list = byReport.get(Number(t.outbound_report_id)) ?? [];
    list.push({
      uri: t.uri, state: t.state, attempts: Number(t.attempts),
      ...(t.state === 'retrying' || t.state === 'pending' ? { nextAttemptAt: Number(t.next_attempt_at) } : {}),
      ...(t.last_attempt_at != null ? { lastAttemptAt: Number(t.last_attempt_at) } : {}),
      ...(t.last_error ? { lastError: t.last_error } : {}),
      ...(t.sent_at != null ? { sentAt: Number(t.sent_at) } : {}),
      ...(t.sent_detail ? { sentDetail: t.sent_detail } : {}),
    });
    byReport.set(Number(t.outbound_report_id), list);
  }
  return rows.map((r) => ({
    id: Number(r.id),
    ...(r.report_id ? { reportId: r.report_id } : {}),
    reportDomain: r.report_domain,
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    state: r.state,
    ...(r.reason ? { reason: r.reason } : {}),
    dueAt: Number(r.due_at),
    createdAt: Number(r.created_at),
    ...(r.record_source ? { recordSource: r.record_source } : {}),
    trimmedDetails: Number(r.trimmed_details),
    ...(r.bytes != null ? { bytes: Number(r.bytes) } : {}),
    targets: byReport.get(Number(r.id)) ?? [],
  }));
}

/** JSON for the API and `--json`: times as RFC 3339 UTC. */
/** A target as the API answers it (times ISO 8601). */
export interface TargetViewJson {
  uri: string; state: OutboundTargetState; attempts: number;
  nextAttemptAt?: string; lastAttemptAt?: string; lastError?: string; sentAt?: string; sentDetail?: string;
}

/** A built report as `GET /api/v1/outbound/reports` and the web UI's outbound page read it. */
export interface ReportViewJson {
  id: number; reportId?: string; reportDomain: string; windowStart: string; windowEnd: string; state: OutboundReportState; reason?: string;
  dueAt: string; createdAt: string; recordSource?: string; trimmedDetails: number; bytes?: number; targets: TargetViewJson[];
}

export function reportViewToJson(r: ReportView): ReportViewJson {
  const t = (s?: number) => (s === undefined ? undefined : isoSeconds(s));
  return {
    id: r.id,
    reportId: r.reportId,
    reportDomain: r.reportDomain,
    windowStart: isoSeconds(r.windowStart),
    windowEnd: isoSeconds(r.windowEnd),
    state: r.state,
    reason: r.reason,
    dueAt: isoSeconds(r.dueAt),
    createdAt: isoSeconds(r.createdAt),
    recordSource: r.recordSource,
    trimmedDetails: r.trimmedDetails,
    bytes: r.bytes,
    targets: r.targets.map((x) => ({
      uri: x.uri, state: x.state, attempts: x.attempts,
      nextAttemptAt: t(x.nextAttemptAt), lastAttemptAt: t(x.lastAttemptAt),
      lastError: x.lastError, sentAt: t(x.sentAt), sentDetail: x.sentDetail,
    })),
  };
}

const flat = (s: string) => JSON.stringify(s).slice(1, -1).slice(0, 200);

/** Human-readable: one block per report, one line per target. */
export function renderReports(reports: ReportView[]): string {
  if (reports.length === 0) return 'no reports built yet\n';
  const out: string[] = [];
  for (const r of reports) {
    out.push(`${r.reportDomain}  ${isoSeconds(r.windowStart)} – ${isoSeconds(r.windowEnd - 1)}  ${r.state}${r.reportId ? `  report-id ${r.reportId}` : ''}${r.reason ? `  (${flat(r.reason)})` : ''}`);
    for (const x of r.targets) {
      let line = `    ${x.state.padEnd(8)} ${x.uri}`;
      if (x.state === 'sent' && x.sentAt !== undefined) line += `  at ${isoSeconds(x.sentAt)}`;
      if (x.state === 'retrying' && x.nextAttemptAt !== undefined) line += `  next attempt ${isoSeconds(x.nextAttemptAt)}`;
      if (x.state === 'pending' && x.nextAttemptAt !== undefined) line += `  due ${isoSeconds(Math.max(x.nextAttemptAt, r.dueAt))}`;
      if (x.attempts) line += `  (${x.attempts} attempt${x.attempts === 1 ? '' : 's'})`;
      if (x.lastError && x.state !== 'sent') line += `  last error: ${flat(x.lastError)}`;
      out.push(line);
    }
  }
  return `${out.join('\n')}\n`;
}

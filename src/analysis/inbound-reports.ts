/**
 * @module analysis/inbound-reports — listing and showing stored inbound reports: filters by
 * policy domain, reporter, time range (of the report's date-range start) and whether the report
 * has failures, with paging; one report with its normalised form, findings, DKIM result and
 * raw bytes. One query code path for SQLite and PostgreSQL.
 */
import type { Store } from '../store/index.js';
import type { Finding, TlsReport } from '../rfc8460/types.js';
import { dayString } from './filters.js';
import { isoSeconds } from '../common/time.js';
import { storedPayload, storedRaw, storedReportJson } from '../store/packed.js';

export interface ListInboundFilter {
  /** Policy domain (exact, lower-cased). */
  domain?: string;
  /** The reporter key (organisational domain of contact-info) or the organization-name, case-insensitive. */
  reporter?: string;
  /** Epoch seconds, inclusive, compared with the report's start-datetime. */
  from?: number;
  /** Epoch seconds, exclusive. */
  to?: number;
  hasFailures?: boolean;
  /** Only reports with a failure detail of this result type / receiving MX host / receiving IP. */
  resultType?: string;
  mx?: string;
  ip?: string;
  /** Only reports that came in through this channel (http, smtp, imap, file…). */
  channel?: string;
  /** Only reports with (true) or without (false) a passing, aligned DKIM signature. */
  verified?: boolean;
  /** Default 50, at most 1000. */
  limit?: number;
  offset?: number;
}

export interface InboundReportListItem {
  id: number;
  reporter: string;
  organizationName: string;
  reportId: string;
  startDatetime: string;
  endDatetime: string;
  day: string;
  policyDomains: string[];
  successful: number;
  failed: number;
  findingsCount: number;
  channel: string;
  receivedAt: string;
  dkim: { result: string; domain: string | null; aligned: boolean };
  /** Attributed to `reporter` by a passing DKIM signature aligned with its contact-info / submitter domain. */
  verified: boolean;
}

export interface InboundReportList {
  reports: InboundReportListItem[];
  total: number;
  limit: number;
  offset: number;
}

const iso = isoSeconds;

/** The reports matching a filter (limit and offset are the caller's), as a query on `inbound_report as r`. */
export function inboundReportQuery(store: Store, f: ListInboundFilter) {
  let q = store.db.selectFrom('inbound_report as r');
  if (f.domain !== undefined) {
    const domain = f.domain;
    // `in (…)` rather than `exists`: both databases then start from the policy-domain index
    // instead of probing every report (a year of 110k reports: 550 ms → a few ms on SQLite).
    q = q.where('r.id', 'in', (eb) => eb.selectFrom('inbound_policy as p').select('p.report_ref').where('p.policy_domain', '=', domain));
  }
  if (f.reporter !== undefined) {
    const who = f.reporter.trim().toLowerCase();
    q = q.where((eb) => eb.or([eb('r.reporter', '=', who), eb(eb.fn('lower', ['r.organization_name']), '=', who)]));
  }
  if (f.from !== undefined) q = q.where('r.date_start', '>=', f.from);
  if (f.to !== undefined) q = q.where('r.date_start', '<', f.to);
  if (f.hasFailures !== undefined) q = q.where('r.total_failed', f.hasFailures ? '>' : '=', 0);
  if (f.channel !== undefined) q = q.where('r.channel', '=', f.channel);
  if (f.verified !== undefined) {
    q = f.verified
      ? q.where('r.dkim_result', '=', 'pass').where('r.dkim_aligned', '=', 1)
      : q.where((eb) => eb.or([eb('r.dkim_result', '!=', 'pass'), eb('r.dkim_aligned', '=', 0)]));
  }
  if (f.resultType !== undefined || f.mx !== undefined || f.ip !== undefined) {
    const { resultType, mx, ip } = f;
    q = q.where(({ exists, selectFrom }) => {
      let d = selectFrom('inbound_failure as d').select('d.id').whereRef('d.report_ref', '=', 'r.id');
      if (resultType !== undefined) d = d.where('d.result_type', '=', resultType);
      if (mx !== undefined) d = d.where('d.receiving_mx_hostname', '=', mx);
      if (ip !== undefined) d = d.where('d.receiving_ip', '=', ip);
      return exists(d);
    });
  }
  return q;
}

/**
 * @example await listInboundReports(store, { domain: 'example.com', hasFailures: true, limit: 20 })
 */
export async function listInboundReports(store: Store, f: ListInboundFilter = {}): Promise<InboundReportList> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 1000);
  const offset = Math.max(f.offset ?? 0, 0);
  // The page's ids first, then their columns: sorting the matches with every column (the
  // report JSON among them) read the wide rows of all matches (a reporter's year: 18k rows, 0.5 s).
  const [page, total] = await Promise.all([
    inboundReportQuery(store, f).select('r.id').orderBy('r.date_start', 'desc').orderBy('r.id', 'desc').limit(limit).offset(offset).execute(),
    inboundReportQuery(store, f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const ids = page.map((r) => Number(r.id));
  const byId = new Map((ids.length === 0 ? [] : await store.db.selectFrom('inbound_report as r')
    .select([
      'r.id', 'r.reporter', 'r.organization_name', 'r.report_id', 'r.date_start', 'r.date_end', 'r.day', 'r.policy_domains',
      'r.total_successful', 'r.total_failed', 'r.findings_count', 'r.channel', 'r.received_at', 'r.dkim_result', 'r.dkim_domain', 'r.dkim_aligned', 'r.verified',
      'r.start_datetime', 'r.end_datetime',
    ])
    .where('r.id', 'in', ids)
    .execute()).map((r) => [Number(r.id), r]));
  const rows = ids.map((id) => byId.get(id)!).filter(Boolean);
  // Rows stored before migration 0525 have the date-range only in their JSON.
  const older = rows.filter((r) => r.start_datetime === null).map((r) => Number(r.id));
  const olderRanges = new Map(older.length === 0 ? [] : (await store.db.selectFrom('inbound_report')
    .select(['id', 'report_json', 'report_json_gz'])
    .where('id', 'in', older)
    .execute()).map((r) => [Number(r.id), (JSON.parse(storedReportJson(r)) as TlsReport).dateRange]));
  return {
    reports: rows.map((r) => {
      const dateRange = olderRanges.get(Number(r.id)) ?? { startDatetime: r.start_datetime ?? '', endDatetime: r.end_datetime ?? '' };
      return {
        id: Number(r.id),
        reporter: r.reporter,
        organizationName: r.organization_name,
        reportId: r.report_id,
        startDatetime: dateRange.startDatetime || iso(r.date_start),
        endDatetime: dateRange.endDatetime || iso(r.date_end),
        day: dayString(r.day),
        policyDomains: r.policy_domains ? r.policy_domains.split(',') : [],
        successful: r.total_successful,
        failed: r.total_failed,
        findingsCount: r.findings_count,
        channel: r.channel,
        receivedAt: iso(r.received_at),
        dkim: { result: r.dkim_result, domain: r.dkim_domain, aligned: Boolean(r.dkim_aligned) },
        verified: Boolean(r.verified),
      };
    }),
    total: Number(total.n),
    limit,
    offset,
  };
}

export interface InboundReportDetail extends InboundReportListItem {
  contactInfo: string | null;
  peer: string | null;
  source: string | null;
  envelope: { mailFrom?: string; rcptTo?: string[] } | null;
  message: Record<string, unknown> | null;
  dkim: InboundReportListItem['dkim'] & Record<string, unknown>;
  /** The normalised report (rfc8460 `TlsReport`, non-RFC keys kept in `extra`). */
  report: TlsReport;
  findings: Finding[];
  /** The input as received (whole e-mail, HTTP body, file), base64. */
  raw: string;
  /** The report JSON as extracted (decompressed), base64. */
  payload: string;
}

/** One stored report, or undefined. */
export async function getInboundReport(store: Store, id: number): Promise<InboundReportDetail | undefined> {
  if (!Number.isSafeInteger(id) || id < 1) return undefined;
  const r = await store.db.selectFrom('inbound_report').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return undefined;
  const findings = await store.db
    .selectFrom('inbound_finding')
    .select(['code', 'path', 'message'])
    .where('report_ref', '=', id)
    .orderBy('id')
    .execute();
  const report = JSON.parse(storedReportJson(r)) as TlsReport;
  const dkimExtra = r.dkim_json ? (JSON.parse(r.dkim_json) as Record<string, unknown>) : {};
  const payload = storedPayload(r);
  return {
    id: Number(r.id),
    reporter: r.reporter,
    organizationName: r.organization_name,
    contactInfo: r.contact_info,
    reportId: r.report_id,
    startDatetime: report.dateRange.startDatetime || iso(r.date_start),
    endDatetime: report.dateRange.endDatetime || iso(r.date_end),
    day: dayString(r.day),
    policyDomains: r.policy_domains ? r.policy_domains.split(',') : [],
    successful: r.total_successful,
    failed: r.total_failed,
    findingsCount: r.findings_count,
    findings: findings.map((f) => ({ code: f.code, ...(f.path ? { path: f.path } : {}), message: f.message })),
    channel: r.channel,
    peer: r.peer,
    source: r.source,
    receivedAt: iso(r.received_at),
    envelope: r.envelope_json ? JSON.parse(r.envelope_json) : null,
    message: r.message_json ? JSON.parse(r.message_json) : null,
    dkim: { ...dkimExtra, result: r.dkim_result, domain: r.dkim_domain, aligned: Boolean(r.dkim_aligned) },
    verified: Boolean(r.verified),
    report,
    raw: (storedRaw(r) ?? payload).toString('base64'),
    payload: payload.toString('base64'),
  };
}


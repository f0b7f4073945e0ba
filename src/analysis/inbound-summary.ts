/**
 * @module analysis/inbound-summary — what other organisations report about our domains, per
 * policy domain and UTC day (of each report's start-datetime): successful and failed sessions
 * per reporter and policy type (`rows`, from the policies' summary counts, RFC 8460 §4.4), and
 * failed sessions per result type, receiving MX and receiving IP (from the failure details —
 * whose counts may legitimately not add up to the summary totals, see docs/spec/quirks.md). Integer day
 * numbers are grouped with plain SQL, so SQLite and PostgreSQL give the same figures.
 */
import { sql } from '../store/kysely.js';
import type { Store } from '../store/index.js';
import { dayString } from './filters.js';

export interface SummaryFilter {
  domain?: string;
  /** UTC day numbers (epoch seconds / 86400), inclusive. */
  fromDay?: number;
  toDay?: number;
  reporter?: string;
}

export interface SummaryRow {
  policyDomain: string;
  day: string;
  reporter: string;
  organizationName: string;
  policyType: string;
  successful: number;
  failed: number;
  reports: number;
  /** Of `reports`, those attributed to the reporter by an aligned DKIM signature; the rest are unverified (HTTPS POSTs, unsigned mail). */
  verifiedReports: number;
}

export interface SummaryTotal { policyDomain: string; day: string; successful: number; failed: number; reports: number }
export interface ResultTypeRow { policyDomain: string; day: string; resultType: string; failed: number }
export interface ReceivingMxRow { policyDomain: string; day: string; receivingMxHostname: string | null; failed: number }
export interface ReceivingIpRow { policyDomain: string; day: string; receivingIp: string | null; failed: number }
/** Failed sessions per receiving MX × result type over the whole period (which MX fails, and why). */
export interface MxResultTypeRow { policyDomain: string; receivingMxHostname: string | null; resultType: string; failed: number; reports: number }

export interface InboundSummary {
  rows: SummaryRow[];
  totals: SummaryTotal[];
  byResultType: ResultTypeRow[];
  byReceivingMx: ReceivingMxRow[];
  byReceivingIp: ReceivingIpRow[];
  byMxResultType: MxResultTypeRow[];
}

function policyFilter(store: Store, f: SummaryFilter) {
  let q = store.db.selectFrom('inbound_policy as p');
  if (f.domain !== undefined) q = q.where('p.policy_domain', '=', f.domain);
  if (f.fromDay !== undefined) q = q.where('p.day', '>=', f.fromDay);
  if (f.toDay !== undefined) q = q.where('p.day', '<=', f.toDay);
  if (f.reporter !== undefined) q = q.where('p.reporter', '=', f.reporter.trim().toLowerCase());
  return q;
}

function failureFilter(store: Store, f: SummaryFilter) {
  let q = store.db.selectFrom('inbound_failure as d');
  if (f.domain !== undefined) q = q.where('d.policy_domain', '=', f.domain);
  if (f.fromDay !== undefined) q = q.where('d.day', '>=', f.fromDay);
  if (f.toDay !== undefined) q = q.where('d.day', '<=', f.toDay);
  if (f.reporter !== undefined) q = q.where('d.reporter', '=', f.reporter.trim().toLowerCase());
  return q;
}

const num = (v: unknown) => Number(v ?? 0);
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * @example
 * const { rows } = await inboundSummary(store, { domain: 'example.com', fromDay: parseDay('from', '2024-02-01') });
 */
export async function inboundSummary(store: Store, f: SummaryFilter = {}): Promise<InboundSummary> {
  const [rows, totals, byResult, byMx, byIp, byMxResult] = await Promise.all([
    policyFilter(store, f)
      .innerJoin('inbound_report as r', 'r.id', 'p.report_ref')
      .select((eb) => [
        'p.policy_domain', 'p.day', 'p.reporter', 'p.policy_type',
        eb.fn.max('r.organization_name').as('organization_name'),
        eb.fn.sum<number>('p.successful').as('successful'),
        eb.fn.sum<number>('p.failed').as('failed'),
        eb.fn.count<number>('p.report_ref').distinct().as('reports'),
        sql<number>`count(distinct case when r.verified = 1 then p.report_ref end)`.as('verified_reports'),
      ])
      .groupBy(['p.policy_domain', 'p.day', 'p.reporter', 'p.policy_type'])
      .execute(),
    policyFilter(store, f)
      .select((eb) => [
        'p.policy_domain', 'p.day',
        eb.fn.sum<number>('p.successful').as('successful'),
        eb.fn.sum<number>('p.failed').as('failed'),
        eb.fn.count<number>('p.report_ref').distinct().as('reports'),
      ])
      .groupBy(['p.policy_domain', 'p.day'])
      .execute(),
    failureFilter(store, f)
      .select((eb) => ['d.policy_domain', 'd.day', 'd.result_type', eb.fn.sum<number>('d.failed_session_count').as('failed')])
      .groupBy(['d.policy_domain', 'd.day', 'd.result_type'])
      .execute(),
    failureFilter(store, f)
      .select((eb) => ['d.policy_domain', 'd.day', 'd.receiving_mx_hostname', eb.fn.sum<number>('d.failed_session_count').as('failed')])
      .groupBy(['d.policy_domain', 'd.day', 'd.receiving_mx_hostname'])
      .execute(),
    failureFilter(store, f)
      .select((eb) => ['d.policy_domain', 'd.day', 'd.receiving_ip', eb.fn.sum<number>('d.failed_session_count').as('failed')])
      .groupBy(['d.policy_domain', 'd.day', 'd.receiving_ip'])
      .execute(),
    failureFilter(store, f)
      .select((eb) => [
        'd.policy_domain', 'd.receiving_mx_hostname', 'd.result_type',
        eb.fn.sum<number>('d.failed_session_count').as('failed'),
        eb.fn.count<number>('d.report_ref').distinct().as('reports'),
      ])
      .groupBy(['d.policy_domain', 'd.receiving_mx_hostname', 'd.result_type'])
      .execute(),
  ]);
  // NULLs and collations sort differently on the two databases (and between PostgreSQL
  // locales): the order is made here, by code point, so both give the same document.
  const byKey = <T extends { policyDomain: string; day: string }>(...keys: ((t: T) => string | null)[]) => (a: T, b: T) =>
    cmp(a.policyDomain, b.policyDomain) || cmp(a.day, b.day) || keys.reduce((acc, k) => acc || cmp(k(a) ?? '', k(b) ?? ''), 0);
  return {
    rows: rows.map((r) => ({
      policyDomain: r.policy_domain,
      day: dayString(r.day),
      reporter: r.reporter,
      organizationName: String(r.organization_name ?? ''),
      policyType: r.policy_type,
      successful: num(r.successful),
      failed: num(r.failed),
      reports: num(r.reports),
      verifiedReports: num(r.verified_reports),
    })).sort(byKey((r) => r.reporter, (r) => r.policyType)),
    totals: totals.map((r) => ({ policyDomain: r.policy_domain, day: dayString(r.day), successful: num(r.successful), failed: num(r.failed), reports: num(r.reports) })).sort(byKey()),
    byResultType: byResult
      .map((r) => ({ policyDomain: r.policy_domain, day: dayString(r.day), resultType: r.result_type, failed: num(r.failed) }))
      .sort(byKey((r) => r.resultType)),
    byReceivingMx: byMx
      .map((r) => ({ policyDomain: r.policy_domain, day: dayString(r.day), receivingMxHostname: r.receiving_mx_hostname, failed: num(r.failed) }))
      .sort(byKey((r) => r.receivingMxHostname)),
    byReceivingIp: byIp
      .map((r) => ({ policyDomain: r.policy_domain, day: dayString(r.day), receivingIp: r.receiving_ip, failed: num(r.failed) }))
      .sort(byKey((r) => r.receivingIp)),
    byMxResultType: byMxResult
      .map((r) => ({ policyDomain: r.policy_domain, receivingMxHostname: r.receiving_mx_hostname, resultType: r.result_type, failed: num(r.failed), reports: num(r.reports) }))
      .sort((a, b) => cmp(a.policyDomain, b.policyDomain) || b.failed - a.failed || cmp(a.receivingMxHostname ?? '', b.receivingMxHostname ?? '') || cmp(a.resultType, b.resultType)),
  };
}

/**
 * @module analysis/domain-detail — one policy domain over a range of UTC days, for the web UI's
 * domain page: sessions per day with the failures split by result type (the stacked chart), and
 * tables by reporter, by receiving MX host and IP, by sending MTA IP, and the policies reporters
 * saw (RFC 8460 §4.4 policy-type / policy-string / mx-host) with the first and last day each was
 * seen. Failure-detail counts need not add up to the summary totals (see rfc8460 quirks): both
 * are shown as reported.
 */
import type { Store } from '../store/index.js';
import type { DayRange } from './overview.js';
import { dayString } from './filters.js';

export interface DomainDetail {
  policyDomain: string;
  from: string;
  to: string;
  totals: { successful: number; failed: number; reports: number };
  /** Every day of the range, oldest first; `byResultType` holds failed sessions per result type. */
  daily: { day: string; successful: number; failed: number; byResultType: Record<string, number> }[];
  /** Result types seen in the range, most failures first (the chart's series order). */
  resultTypes: string[];
  byReporter: { reporter: string; organizationName: string; successful: number; failed: number; reports: number; firstDay: string; lastDay: string }[];
  byReceivingMx: { receivingMxHostname: string | null; receivingIp: string | null; failed: number; resultTypes: string[] }[];
  bySendingIp: { sendingMtaIp: string | null; failed: number }[];
  policies: { policyType: string; policyString: string[]; mxHost: string[]; reports: number; firstDay: string; lastDay: string }[];
}

const num = (v: unknown) => Number(v ?? 0);
const cmp = (a: string | null, b: string | null) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
/** At most this many rows per table: the page is for reading, the CSV export for everything. */
export const TABLE_ROWS = 200;

const parseList = (text: string): string[] => {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
};

/** @example await domainDetail(store, 'example.com', { fromDay: today - 29, toDay: today }) */
export async function domainDetail(store: Store, policyDomain: string, range: DayRange): Promise<DomainDetail> {
  const { fromDay, toDay } = range;
  const policies = () => store.db.selectFrom('inbound_policy as p')
    .where('p.policy_domain', '=', policyDomain).where('p.day', '>=', fromDay).where('p.day', '<=', toDay);
  const failures = () => store.db.selectFrom('inbound_failure as d')
    .where('d.policy_domain', '=', policyDomain).where('d.day', '>=', fromDay).where('d.day', '<=', toDay);
  const [perDay, perDayType, reporters, mx, sendingIp, seen] = await Promise.all([
    policies()
      .select((eb) => ['p.day', eb.fn.sum<number>('p.successful').as('successful'), eb.fn.sum<number>('p.failed').as('failed'),
        eb.fn.count<number>('p.report_ref').distinct().as('reports')])
      .groupBy('p.day').execute(),
    failures()
      .select((eb) => ['d.day', 'd.result_type', eb.fn.sum<number>('d.failed_session_count').as('failed')])
      .groupBy(['d.day', 'd.result_type']).execute(),
    policies().innerJoin('inbound_report as r', 'r.id', 'p.report_ref')
      .select((eb) => ['p.reporter', eb.fn.max('r.organization_name').as('organization_name'),
        eb.fn.sum<number>('p.successful').as('successful'), eb.fn.sum<number>('p.failed').as('failed'),
        eb.fn.count<number>('p.report_ref').distinct().as('reports'),
        eb.fn.min<number>('p.day').as('first_day'), eb.fn.max<number>('p.day').as('last_day')])
      .groupBy('p.reporter').execute(),
    failures()
      .select((eb) => ['d.receiving_mx_hostname', 'd.receiving_ip', 'd.result_type', eb.fn.sum<number>('d.failed_session_count').as('failed')])
      .groupBy(['d.receiving_mx_hostname', 'd.receiving_ip', 'd.result_type']).execute(),
    failures()
      .select((eb) => ['d.sending_mta_ip', eb.fn.sum<number>('d.failed_session_count').as('failed')])
      .groupBy('d.sending_mta_ip').execute(),
    policies()
      .select((eb) => ['p.policy_type', 'p.policy_string_json', 'p.mx_host_json',
        eb.fn.count<number>('p.report_ref').distinct().as('reports'),
        eb.fn.min<number>('p.day').as('first_day'), eb.fn.max<number>('p.day').as('last_day')])
      .groupBy(['p.policy_type', 'p.policy_string_json', 'p.mx_host_json']).execute(),
  ]);

  const typeTotals = new Map<string, number>();
  const typesByDay = new Map<number, Record<string, number>>();
  for (const r of perDayType) {
    const day = num(r.day);
    const byType = typesByDay.get(day) ?? {};
    byType[r.result_type] = (byType[r.result_type] ?? 0) + num(r.failed);
    typesByDay.set(day, byType);
    typeTotals.set(r.result_type, (typeTotals.get(r.result_type) ?? 0) + num(r.failed));
  }
  const sums = new Map(perDay.map((r) => [num(r.day), r]));
  const daily: DomainDetail['daily'] = [];
  const totals = { successful: 0, failed: 0, reports: 0 };
  for (let day = fromDay; day <= toDay; day++) {
    const r = sums.get(day);
    const successful = num(r?.successful), failed = num(r?.failed);
    totals.successful += successful;
    totals.failed += failed;
    totals.reports += num(r?.reports);
    daily.push({ day: dayString(day), successful, failed, byResultType: typesByDay.get(day) ?? {} });
  }

  // One row per (MX host, IP) with its result types, most failures first.
  const mxRows = new Map<string, DomainDetail['byReceivingMx'][number]>();
  for (const r of mx) {
    const key = JSON.stringify([r.receiving_mx_hostname, r.receiving_ip]);
    const row = mxRows.get(key) ?? { receivingMxHostname: r.receiving_mx_hostname, receivingIp: r.receiving_ip, failed: 0, resultTypes: [] };
    row.failed += num(r.failed);
    if (!row.resultTypes.includes(r.result_type)) row.resultTypes.push(r.result_type);
    mxRows.set(key, row);
  }

  return {
    policyDomain,
    from: dayString(fromDay),
    to: dayString(toDay),
    totals,
    daily,
    resultTypes: [...typeTotals].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map(([t]) => t),
    byReporter: reporters
      .map((r) => ({ reporter: r.reporter, organizationName: String(r.organization_name ?? ''), successful: num(r.successful), failed: num(r.failed),
        reports: num(r.reports), firstDay: dayString(num(r.first_day)), lastDay: dayString(num(r.last_day)) }))
      .sort((a, b) => b.failed - a.failed || b.successful - a.successful || cmp(a.reporter, b.reporter))
      .slice(0, TABLE_ROWS),
    byReceivingMx: [...mxRows.values()]
      .map((r) => ({ ...r, resultTypes: r.resultTypes.sort() }))
      .sort((a, b) => b.failed - a.failed || cmp(a.receivingMxHostname, b.receivingMxHostname) || cmp(a.receivingIp, b.receivingIp))
      .slice(0, TABLE_ROWS),
    bySendingIp: sendingIp
      .map((r) => ({ sendingMtaIp: r.sending_mta_ip, failed: num(r.failed) }))
      .sort((a, b) => b.failed - a.failed || cmp(a.sendingMtaIp, b.sendingMtaIp))
      .slice(0, TABLE_ROWS),
    policies: seen
      .map((r) => ({ policyType: r.policy_type, policyString: parseList(r.policy_string_json), mxHost: parseList(r.mx_host_json),
        reports: num(r.reports), firstDay: dayString(num(r.first_day)), lastDay: dayString(num(r.last_day)) }))
      .sort((a, b) => cmp(b.lastDay, a.lastDay) || b.reports - a.reports || cmp(a.policyType, b.policyType))
      .slice(0, TABLE_ROWS),
  };
}

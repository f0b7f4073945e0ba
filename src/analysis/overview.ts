/**
 * @module analysis/overview — the web UI's first page as one read: for every policy domain we
 * receive reports about, the sessions and failure rate over a range of UTC days, a daily series
 * for the sparkline, how many reporters were heard, the MX and result type that failed most, and
 * warnings (failure rate rose; a usual reporter fell silent). Beside it the sending side: the
 * domains we report on, windows open now, reports waiting or failing delivery. A handful of
 * grouped queries over the `day` indexes; SQLite and PostgreSQL give the same figures.
 */
import type { Store } from '../store/index.js';
import { dayString } from './filters.js';

export interface DayRange {
  /** UTC day numbers (epoch seconds / 86400), inclusive. */
  fromDay: number;
  toDay: number;
}

export type DomainWarning =
  | { code: 'failure-rate-rose'; message: string; recentRate: number; earlierRate: number }
  | { code: 'reporters-silent'; message: string; reporters: string[] };

export interface DomainHealth {
  policyDomain: string;
  successful: number;
  failed: number;
  /** failed / (successful + failed), 0 when there were no sessions. */
  failureRate: number;
  reports: number;
  reporters: number;
  /** One entry per day of the range (zeros where nothing was reported), oldest first; per `bucketDays` days when the range is longer than MAX_SPARK_POINTS days (`day` is the bucket's first day). */
  daily: { day: string; successful: number; failed: number }[];
  topFailingMx: { receivingMxHostname: string | null; failed: number } | null;
  topResultType: { resultType: string; failed: number } | null;
  warnings: DomainWarning[];
}

export interface SendingOverview {
  /** Policy domains with a window in the range (we report on them). */
  domainsReportedOn: number;
  openWindows: number;
  /** Sessions counted in the open windows so far (as of the collector's last flush). */
  openWindowSessions: { successful: number; failed: number };
  reportsWaiting: number;
  /** Targets waiting for a retry after a temporary failure. */
  targetsRetrying: number;
  /** Reports whose every target failed, built in the range. */
  reportsFailed: number;
}

export interface Overview {
  from: string;
  to: string;
  /** Days per sparkline point (1 up to MAX_SPARK_POINTS days). */
  bucketDays: number;
  domains: DomainHealth[];
  sending: SendingOverview;
}

/** The last days of the range compared with the rest for the "failure rate rose" warning. */
export const RECENT_DAYS = 7;
/** A reporter that sent at least this many reports in the range is "usual"; silent for SILENT_DAYS it is missed. */
export const USUAL_REPORTER_DAYS = 3;
export const SILENT_DAYS = 3;
/** At most this many sparkline points per domain (ten years of days would be 3,650 each). */
export const MAX_SPARK_POINTS = 92;

const num = (v: unknown) => Number(v ?? 0);
const rate = (failed: number, successful: number) => (failed + successful === 0 ? 0 : failed / (failed + successful));
const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

/** Picks the largest `failed`; ties go to the smaller key so both databases agree. */
function top<T extends { failed: number }>(rows: T[], key: (t: T) => string): T | null {
  let best: T | null = null;
  for (const r of rows) {
    if (!best || r.failed > best.failed || (r.failed === best.failed && key(r) < key(best))) best = r;
  }
  return best && best.failed > 0 ? best : null;
}

/** @example await overview(store, { fromDay: today - 29, toDay: today }, today) */
export async function overview(store: Store, range: DayRange, today: number): Promise<Overview> {
  const { fromDay, toDay } = range;
  const nowSeconds = today * 86400;
  const [perDay, reporters, byMx, byResult, sending] = await Promise.all([
    store.db.selectFrom('inbound_policy as p')
      .where('p.day', '>=', fromDay).where('p.day', '<=', toDay)
      .select((eb) => ['p.policy_domain', 'p.day',
        eb.fn.sum<number>('p.successful').as('successful'), eb.fn.sum<number>('p.failed').as('failed'),
        eb.fn.count<number>('p.report_ref').distinct().as('reports')])
      .groupBy(['p.policy_domain', 'p.day'])
      .execute(),
    store.db.selectFrom('inbound_policy as p')
      .where('p.day', '>=', fromDay).where('p.day', '<=', toDay)
      // Reports rather than distinct days: the same for daily reporters, and no per-group distinct sort.
      .select((eb) => ['p.policy_domain', 'p.reporter', eb.fn.max<number>('p.day').as('last_day'), eb.fn.countAll<number>().as('days')])
      .groupBy(['p.policy_domain', 'p.reporter'])
      .execute(),
    store.db.selectFrom('inbound_failure as d')
      .where('d.day', '>=', fromDay).where('d.day', '<=', toDay)
      .select((eb) => ['d.policy_domain', 'd.receiving_mx_hostname', eb.fn.sum<number>('d.failed_session_count').as('failed')])
      .groupBy(['d.policy_domain', 'd.receiving_mx_hostname'])
      .execute(),
    store.db.selectFrom('inbound_failure as d')
      .where('d.day', '>=', fromDay).where('d.day', '<=', toDay)
      .select((eb) => ['d.policy_domain', 'd.result_type', eb.fn.sum<number>('d.failed_session_count').as('failed')])
      .groupBy(['d.policy_domain', 'd.result_type'])
      .execute(),
    sendingOverview(store, range, nowSeconds),
  ]);

  const domains = new Map<string, { days: Map<number, { s: number; f: number; r: number }> }>();
  for (const r of perDay) {
    const d = domains.get(r.policy_domain) ?? { days: new Map() };
    d.days.set(num(r.day), { s: num(r.successful), f: num(r.failed), r: num(r.reports) });
    domains.set(r.policy_domain, d);
  }
  const group = <T extends { policy_domain: string }>(rows: T[]) => {
    const m = new Map<string, T[]>();
    for (const r of rows) {
      const list = m.get(r.policy_domain);
      if (list) list.push(r);
      else m.set(r.policy_domain, [r]);
    }
    return m;
  };
  const reportersBy = group(reporters);
  const mxBy = group(byMx);
  const resultBy = group(byResult);
  const recentFrom = toDay - RECENT_DAYS + 1;
  // A sparkline has room for ~90 bars: longer ranges are summed into buckets of whole days.
  const bucketDays = Math.max(1, Math.ceil((toDay - fromDay + 1) / MAX_SPARK_POINTS));

  const out: DomainHealth[] = [];
  for (const [policyDomain, { days }] of domains) {
    let successful = 0, failed = 0, reports = 0, recentS = 0, recentF = 0;
    const daily: DomainHealth['daily'] = [];
    let bucket: DomainHealth['daily'][number] | undefined;
    for (let day = fromDay; day <= toDay; day++) {
      const v = days.get(day) ?? { s: 0, f: 0, r: 0 };
      successful += v.s;
      failed += v.f;
      reports += v.r;
      if (day >= recentFrom) {
        recentS += v.s;
        recentF += v.f;
      }
      // The first day of the range always opens a bucket, so `bucket` is set before it is used.
      if ((day - fromDay) % bucketDays === 0) {
        bucket = { day: dayString(day), successful: 0, failed: 0 };
        daily.push(bucket);
      }
      bucket!.successful += v.s;
      bucket!.failed += v.f;
    }
    const warnings: DomainWarning[] = [];
    const recentRate = rate(recentF, recentS);
    const earlierRate = rate(failed - recentF, successful - recentS);
    // Twice the earlier rate and at least 5 points up: noise on a quiet domain is not a warning.
    if (successful - recentS + failed - recentF > 0 && recentRate >= 2 * earlierRate && recentRate - earlierRate >= 0.05) {
      warnings.push({ code: 'failure-rate-rose', recentRate, earlierRate,
        message: `failure rate ${pct(recentRate)} in the last ${RECENT_DAYS} days, ${pct(earlierRate)} before` });
    }
    const silent = (reportersBy.get(policyDomain) ?? [])
      .filter((r) => num(r.days) >= USUAL_REPORTER_DAYS && num(r.last_day) <= toDay - SILENT_DAYS)
      .map((r) => r.reporter)
      .sort();
    if (silent.length) {
      warnings.push({ code: 'reporters-silent', reporters: silent,
        message: `no report for ${SILENT_DAYS}+ days from ${silent.join(', ')}` });
    }
    // Details without a receiving MX (allowed by RFC 8460 §4.3) name no host to blame.
    const mx = top((mxBy.get(policyDomain) ?? []).filter((r) => r.receiving_mx_hostname)
      .map((r) => ({ receivingMxHostname: r.receiving_mx_hostname, failed: num(r.failed) })), (r) => r.receivingMxHostname ?? '');
    const rt = top((resultBy.get(policyDomain) ?? []).map((r) => ({ resultType: r.result_type, failed: num(r.failed) })), (r) => r.resultType);
    out.push({
      policyDomain, successful, failed, failureRate: rate(failed, successful), reports,
      reporters: (reportersBy.get(policyDomain) ?? []).length,
      daily, topFailingMx: mx, topResultType: rt, warnings,
    });
  }
  // Worst first: the page is read top-down.
  out.sort((a, b) => b.warnings.length - a.warnings.length || b.failureRate - a.failureRate || (a.policyDomain < b.policyDomain ? -1 : 1));
  return { from: dayString(fromDay), to: dayString(toDay), bucketDays, domains: out, sending };
}

async function sendingOverview(store: Store, range: DayRange, nowSeconds: number): Promise<SendingOverview> {
  const from = range.fromDay * 86400;
  const to = (range.toDay + 1) * 86400;
  const [domains, open, waiting, retrying, failed] = await Promise.all([
    store.db.selectFrom('outbound_window').where('window_start', '<', to).where('window_end', '>', from)
      .select((eb) => eb.fn.count<number>('report_domain').distinct().as('n')).executeTakeFirstOrThrow(),
    store.db.selectFrom('outbound_window as w').leftJoin('outbound_policy as p', 'p.window_id', 'w.id').where('w.state', '=', 'open')
      .select((eb) => [eb.fn.count<number>('w.id').distinct().as('windows'), eb.fn.sum<number>('p.successful').as('successful'), eb.fn.sum<number>('p.failed').as('failed')])
      .executeTakeFirstOrThrow(),
    store.db.selectFrom('outbound_report').where('state', 'in', ['building', 'pending'])
      .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    store.db.selectFrom('outbound_target').where('state', '=', 'retrying')
      .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    store.db.selectFrom('outbound_report').where('state', '=', 'failed').where('window_end', '>', from).where('window_start', '<', Math.max(to, nowSeconds))
      .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    domainsReportedOn: num(domains.n),
    openWindows: num(open.windows),
    openWindowSessions: { successful: num(open.successful), failed: num(open.failed) },
    reportsWaiting: num(waiting.n),
    targetsRetrying: num(retrying.n),
    reportsFailed: num(failed.n),
  };
}

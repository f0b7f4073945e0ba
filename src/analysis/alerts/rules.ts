/**
 * @module analysis/alerts/rules — the alert rules as queries over the inbound store, batched so
 * a page of newly stored reports costs a handful of grouped queries (same SQL on SQLite and
 * PostgreSQL). Report-time rules: failure rate above a threshold or well above the domain's
 * baseline, a failing (MX, result type) never seen before, certificate failures (urgent).
 * Daily rules: a reporter that reported daily gone silent, MTA-STS `testing` with no failures
 * for long enough ("ready to enforce"). Each returns candidates; the engine applies the
 * per-domain settings and the cooldown.
 */
import { sql } from '../../store/kysely.js';
import type { Store } from '../../store/index.js';
import { dayString } from '../filters.js';

export type AlertRule = 'failure-rate' | 'new-failure' | 'certificate' | 'silent-reporter' | 'ready-to-enforce';
export type AlertSeverity = 'urgent' | 'warning' | 'info';

export interface AlertCandidate {
  rule: AlertRule;
  severity: AlertSeverity;
  policyDomain: string;
  /** Cooldown identity: the same key is notified at most once per cooldown. */
  key: string;
  title: string;
  detail: Record<string, unknown>;
  reportRef?: number;
}

/** What the report-time rules need to know per domain (the engine resolves config into this). */
export interface RateRules { failureRate: number; baselineFactor: number; minSessions: number }

const BASELINE_DAYS = 14;
/** RFC 8460 §4.3.1: the two negotiation failures that mean the MX's certificate itself is wrong. */
const CERTIFICATE_TYPES = ['certificate-expired', 'certificate-not-trusted'];
const num = (v: unknown) => Number(v ?? 0);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Candidates raised by the reports `ids` (just stored). */
export async function reportTimeCandidates(store: Store, ids: number[], rates: (domain: string) => RateRules): Promise<AlertCandidate[]> {
  if (!ids.length) return [];
  const idSet = new Set(ids);
  const touched = await store.db.selectFrom('inbound_policy').select(['policy_domain', 'day']).distinct().where('report_ref', 'in', ids).execute();
  if (!touched.length) return [];
  const domains = [...new Set(touched.map((t) => t.policy_domain))];
  const days = touched.map((t) => Number(t.day));
  const out: AlertCandidate[] = [];

  const perDay = await store.db.selectFrom('inbound_policy')
    .select((eb) => ['policy_domain', 'day', eb.fn.sum<number>('successful').as('ok'), eb.fn.sum<number>('failed').as('failed')])
    .where('policy_domain', 'in', domains)
    .where('day', '>=', Math.min(...days) - BASELINE_DAYS)
    .where('day', '<=', Math.max(...days))
    .groupBy(['policy_domain', 'day'])
    .execute();
  const byDomain = new Map<string, Map<number, { ok: number; failed: number }>>();
  for (const r of perDay) {
    const m = byDomain.get(r.policy_domain) ?? new Map();
    m.set(Number(r.day), { ok: num(r.ok), failed: num(r.failed) });
    byDomain.set(r.policy_domain, m);
  }
  for (const t of touched) {
    const day = Number(t.day);
    const series = byDomain.get(t.policy_domain)!;
    const today = series.get(day) ?? { ok: 0, failed: 0 };
    const total = today.ok + today.failed;
    const rules = rates(t.policy_domain);
    if (total < rules.minSessions || today.failed === 0) continue;
    let bOk = 0, bFailed = 0;
    for (let d = day - BASELINE_DAYS; d < day; d++) { const s = series.get(d); if (s) { bOk += s.ok; bFailed += s.failed; } }
    const rate = today.failed / total;
    const baseline = bOk + bFailed > 0 ? bFailed / (bOk + bFailed) : undefined;
    const aboveThreshold = rate > rules.failureRate;
    const aboveBaseline = baseline !== undefined && baseline > 0 && rate > rules.baselineFactor * baseline;
    if (!aboveThreshold && !aboveBaseline) continue;
    out.push({
      rule: 'failure-rate', severity: 'warning', policyDomain: t.policy_domain, key: `failure-rate:${t.policy_domain}:${day}`,
      title: `${t.policy_domain}: ${pct(rate)} of TLS sessions failed on ${dayString(day)}`,
      detail: { day: dayString(day), successful: today.ok, failed: today.failed, rate, baseline: baseline ?? null, threshold: rules.failureRate, baselineFactor: rules.baselineFactor,
        why: aboveThreshold ? `above the threshold ${pct(rules.failureRate)}` : `${rules.baselineFactor}× above the ${BASELINE_DAYS}-day baseline ${pct(baseline!)}` },
    });
  }

  // The first stored report of each failing (domain, MX, result type): new when it is one of ours.
  // Only the result types these reports carry: the history scanned stays small for a big store.
  const types = (await store.db.selectFrom('inbound_failure').select('result_type').distinct().where('report_ref', 'in', ids).execute()).map((t) => t.result_type);
  const firsts = types.length ? await store.db.selectFrom('inbound_failure')
    .select((eb) => ['policy_domain', 'receiving_mx_hostname', 'result_type', eb.fn.min<number>('report_ref').as('first'), eb.fn.sum<number>('failed_session_count').as('failed')])
    .where('policy_domain', 'in', domains)
    .where('result_type', 'in', types)
    .groupBy(['policy_domain', 'receiving_mx_hostname', 'result_type'])
    .execute() : [];
  for (const f of firsts) {
    const first = num(f.first);
    if (!idSet.has(first)) continue;
    const mx = f.receiving_mx_hostname ?? '(no MX given)';
    out.push({
      rule: 'new-failure', severity: 'warning', policyDomain: f.policy_domain, key: `new-failure:${f.policy_domain}:${mx}:${f.result_type}`, reportRef: first,
      title: `${f.policy_domain}: new failure ${f.result_type} at ${mx}`,
      detail: { receivingMxHostname: f.receiving_mx_hostname, resultType: f.result_type, failed: num(f.failed) },
    });
  }

  const certs = await store.db.selectFrom('inbound_failure')
    .select((eb) => ['policy_domain', 'receiving_mx_hostname', 'result_type', 'day', eb.fn.sum<number>('failed_session_count').as('failed'), eb.fn.max<number>('report_ref').as('report')])
    .where('report_ref', 'in', ids)
    .where('result_type', 'in', CERTIFICATE_TYPES)
    .groupBy(['policy_domain', 'receiving_mx_hostname', 'result_type', 'day'])
    .execute();
  for (const c of certs) {
    const mx = c.receiving_mx_hostname ?? '(no MX given)';
    out.push({
      rule: 'certificate', severity: 'urgent', policyDomain: c.policy_domain, key: `certificate:${c.policy_domain}:${mx}:${c.result_type}`, reportRef: num(c.report),
      title: `${c.policy_domain}: ${c.result_type} at ${mx} (${num(c.failed)} session(s) on ${dayString(Number(c.day))})`,
      detail: { receivingMxHostname: c.receiving_mx_hostname, resultType: c.result_type, failed: num(c.failed), day: dayString(Number(c.day)) },
    });
  }
  return out;
}

/** A reporter counts as daily when it reported on at least this many of the 14 days before it went quiet. */
const DAILY_MIN_DAYS = 10;

/** Daily rules, judged on `today` (UTC day number); `silentDays`/`readyDays` per domain (0: off). */
export async function dailyCandidates(store: Store, today: number, settings: (domain: string) => { silentDays: number; readyDays: number }, maxSilent = 30, maxReady = 90): Promise<AlertCandidate[]> {
  const out: AlertCandidate[] = [];
  // Reports are about a day and arrive the next: the latest expected day is today - 1.
  const reporters = await store.db.selectFrom('inbound_policy')
    .select((eb) => ['policy_domain', 'reporter', eb.fn.max<number>('day').as('last'), eb.fn.count<number>('day').distinct().as('days')])
    .where('day', '>=', today - 1 - maxSilent - BASELINE_DAYS)
    .where('day', '<=', today - 1)
    .groupBy(['policy_domain', 'reporter'])
    .execute();
  for (const r of reporters) {
    const n = settings(r.policy_domain).silentDays;
    const last = num(r.last);
    if (!n || last > today - 1 - n) continue;
    const active = await store.db.selectFrom('inbound_policy').select((eb) => eb.fn.count<number>('day').distinct().as('days'))
      .where('policy_domain', '=', r.policy_domain).where('reporter', '=', r.reporter)
      .where('day', '>', last - BASELINE_DAYS).where('day', '<=', last).executeTakeFirstOrThrow();
    if (num(active.days) < DAILY_MIN_DAYS) continue;
    out.push({
      rule: 'silent-reporter', severity: 'warning', policyDomain: r.policy_domain, key: `silent-reporter:${r.policy_domain}:${r.reporter}:${last}`,
      title: `${r.policy_domain}: ${r.reporter} sent no report for ${today - 1 - last} day(s) (last: ${dayString(last)})`,
      detail: { reporter: r.reporter, lastDay: dayString(last), silentDays: today - 1 - last, activeDaysBefore: num(active.days) },
    });
  }
  const testing = sql<number>`max(case when policy_string_json like '%"mode: testing"%' then 1 else 0 end)`;
  const enforcing = sql<number>`max(case when policy_string_json like '%"mode: enforce"%' then 1 else 0 end)`;
  const sts = await store.db.selectFrom('inbound_policy')
    .select((eb) => ['policy_domain', eb.fn.min<number>('day').as('first'), eb.fn.sum<number>('failed').as('failed'), eb.fn.sum<number>('successful').as('ok'), testing.as('testing'), enforcing.as('enforcing')])
    .where('policy_type', '=', 'sts')
    .where('day', '>=', today - maxReady)
    .groupBy('policy_domain')
    .execute();
  for (const s of sts) {
    const n = settings(s.policy_domain).readyDays;
    if (!n || !num(s.testing) || num(s.enforcing)) continue;
    // Only the last n days count: failures older than that do not block.
    const window = await store.db.selectFrom('inbound_policy')
      .select((eb) => [eb.fn.min<number>('day').as('first'), eb.fn.sum<number>('failed').as('failed'), eb.fn.sum<number>('successful').as('ok')])
      .where('policy_domain', '=', s.policy_domain).where('policy_type', '=', 'sts').where('day', '>=', today - n).executeTakeFirstOrThrow();
    const covered = num(s.first) <= today - n + 1;
    if (!covered || num(window.failed) > 0 || num(window.ok) === 0) continue;
    out.push({
      rule: 'ready-to-enforce', severity: 'info', policyDomain: s.policy_domain, key: `ready-to-enforce:${s.policy_domain}`,
      title: `${s.policy_domain}: MTA-STS in testing with no failures for ${n} days: ready to enforce`,
      detail: { days: n, successful: num(window.ok), hint: 'set "mode: enforce" in the policy and change the id of the _mta-sts record (RFC 8461 §3)' },
    });
  }
  return out;
}

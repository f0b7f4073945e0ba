/**
 * @module analysis/drift — policy drift: the policy strings reporters quote (RFC 8460 §4.4:
 * one MTA-STS policy line per element, or one TLSA "usage selector matching HEX" per record)
 * compared with what the domain publishes now and has been seen publishing before. A reporter
 * on an old policy has a stale cache (RFC 8461 §5.1 lets it keep one for max_age); a policy
 * that matches nothing ever published points at a stale cache from before we recorded, or a
 * tampered path (a man in the middle serving its own policy). Same SQL on SQLite and PostgreSQL.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/index.js';
import { dayString } from './filters.js';

export interface PublishedPolicy {
  policyType: 'sts' | 'tlsa';
  policyStrings: string[];
  /** The `id=` of the `_mta-sts` record that announced it. */
  stsId?: string;
}

/**
 * `unknown`: never published while we were watching; `unverified`: quoted only before we first
 * recorded this domain's policies of that type, so it cannot be judged.
 */
export type DriftStatus = 'current' | 'old' | 'unknown' | 'unverified';

export interface DriftEntry {
  reporter: string;
  policyType: string;
  policyStrings: string[];
  fingerprint: string;
  status: DriftStatus;
  /** Days (of report start) this reporter quoted this policy. */
  firstDay: string;
  lastDay: string;
  reports: number;
  /** When we saw the domain publish it (old and current policies). */
  publishedFirstSeen?: string;
  publishedLastSeen?: string;
  /** This is the reporter's most recent policy of its type. */
  latest: boolean;
}

export interface DriftReport {
  domain: string;
  current: (PublishedPolicy & { fingerprint: string })[];
  entries: DriftEntry[];
  /** Reporters whose latest policy is not the current one (stale cache), or was never published. */
  stale: DriftEntry[];
  unknown: DriftEntry[];
}

/**
 * Policy strings in a comparable form: MTA-STS lines with the key lower-cased and spaces
 * collapsed (RFC 8461 §3.2 keys are case-insensitive), TLSA hex upper-cased; order ignored,
 * since senders list lines in any order.
 */
export function normalizePolicyStrings(policyType: string, strings: string[]): string[] {
  const norm = strings.map((s) => {
    const t = s.trim().replace(/\s+/g, ' ');
    if (policyType === 'tlsa') return t.toUpperCase();
    const i = t.indexOf(':');
    return i < 0 ? t.toLowerCase() : `${t.slice(0, i).trim().toLowerCase()}: ${t.slice(i + 1).trim().toLowerCase()}`;
  }).filter((s) => s !== '');
  return [...new Set(norm)].sort();
}

export function policyFingerprint(policyType: string, strings: string[]): string {
  return createHash('sha256').update(`${policyType}\n${normalizePolicyStrings(policyType, strings).join('\n')}`).digest('hex').slice(0, 16);
}

/** The MTA-STS policy body as the policy-string array a reporter would quote (one element per line). */
export function stsPolicyStrings(policyText: string): string[] {
  return policyText.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.includes(':'));
}

/** Records what the domain publishes now (first seen kept, last seen moved). */
export async function recordPublished(store: Store, domain: string, policies: PublishedPolicy[], nowSeconds: number): Promise<void> {
  for (const p of policies) {
    const fingerprint = policyFingerprint(p.policyType, p.policyStrings);
    await store.db.insertInto('published_policy').values({
      policy_domain: domain, policy_type: p.policyType, fingerprint, policy_string_json: JSON.stringify(p.policyStrings),
      sts_id: p.stsId ?? null, first_seen: nowSeconds, last_seen: nowSeconds,
    }).onConflict((oc) => oc.columns(['policy_domain', 'policy_type', 'fingerprint']).doUpdateSet({ last_seen: nowSeconds })).execute();
  }
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/**
 * @example
 * await recordPublished(store, 'example.org', current, now);
 * const drift = await policyDrift(store, 'example.org', current);
 * for (const e of drift.stale) console.log(e.reporter, 'still on', e.policyStrings, 'since', e.firstDay);
 */
export async function policyDrift(store: Store, domain: string, current: PublishedPolicy[]): Promise<DriftReport> {
  const published = await store.db.selectFrom('published_policy').selectAll().where('policy_domain', '=', domain).execute();
  const known = new Map(published.map((p) => [`${p.policy_type}:${p.fingerprint}`, p]));
  // The first UTC day we knew what the domain published, per policy type.
  const watchedFrom = new Map<string, number>();
  for (const p of published) watchedFrom.set(p.policy_type, Math.min(watchedFrom.get(p.policy_type) ?? Infinity, Math.floor(Number(p.first_seen) / 86400)));
  const currentFps = new Set(current.map((p) => `${p.policyType}:${policyFingerprint(p.policyType, p.policyStrings)}`));
  const rows = await store.db.selectFrom('inbound_policy')
    .select((eb) => ['reporter', 'policy_type', 'policy_string_json', eb.fn.min<number>('day').as('first'), eb.fn.max<number>('day').as('last'), eb.fn.count<number>('report_ref').distinct().as('reports')])
    .where('policy_domain', '=', domain)
    .where('policy_type', 'in', ['sts', 'tlsa'])
    .groupBy(['reporter', 'policy_type', 'policy_string_json'])
    .execute();
  // Several JSON texts can normalise to one policy: merge them per (reporter, type, fingerprint).
  const merged = new Map<string, DriftEntry & { firstN: number; lastN: number }>();
  for (const r of rows) {
    const strings = JSON.parse(r.policy_string_json) as string[];
    if (!strings.length) continue; // nothing quoted (mail.ru): nothing to compare
    const fingerprint = policyFingerprint(r.policy_type, strings);
    const k = `${r.reporter}|${r.policy_type}|${fingerprint}`;
    const first = Number(r.first), last = Number(r.last);
    const e = merged.get(k);
    if (e) {
      e.firstN = Math.min(e.firstN, first);
      e.lastN = Math.max(e.lastN, last);
      e.reports += Number(r.reports);
      continue;
    }
    const pub = known.get(`${r.policy_type}:${fingerprint}`);
    const status: DriftStatus = currentFps.has(`${r.policy_type}:${fingerprint}`) ? 'current' : pub ? 'old' : 'unknown';
    // Decided below once the whole span is known: a quote that ends before we watched is unverified.
    merged.set(k, {
      reporter: r.reporter, policyType: r.policy_type, policyStrings: strings, fingerprint, status, firstDay: '', lastDay: '', reports: Number(r.reports),
      ...(pub ? { publishedFirstSeen: iso(Number(pub.first_seen)), publishedLastSeen: iso(Number(pub.last_seen)) } : {}),
      latest: false, firstN: first, lastN: last,
    });
  }
  const all = [...merged.values()];
  for (const e of all) if (e.status === 'unknown' && !(e.lastN >= (watchedFrom.get(e.policyType) ?? Infinity))) e.status = 'unverified';
  const newest = new Map<string, number>();
  for (const e of all) newest.set(`${e.reporter}|${e.policyType}`, Math.max(newest.get(`${e.reporter}|${e.policyType}`) ?? -1, e.lastN));
  const entries: DriftEntry[] = all
    .map(({ firstN, lastN, ...e }) => ({ ...e, firstDay: dayString(firstN), lastDay: dayString(lastN), latest: lastN === newest.get(`${e.reporter}|${e.policyType}`) }))
    .sort((a, b) => (a.reporter < b.reporter ? -1 : a.reporter > b.reporter ? 1 : a.policyType.localeCompare(b.policyType) || a.firstDay.localeCompare(b.firstDay)));
  return {
    domain,
    current: current.map((p) => ({ ...p, fingerprint: policyFingerprint(p.policyType, p.policyStrings) })),
    entries,
    stale: entries.filter((e) => e.latest && e.status === 'old'),
    unknown: entries.filter((e) => e.status === 'unknown'),
  };
}

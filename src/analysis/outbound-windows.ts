/**
 * @module analysis/outbound-windows — the read model of what has been collected per reporting
 * window (open windows, one window's counters) and its JSON shape for the API, the CLI and the
 * library, in the RFC's names (RFC 8460 §4.4) inside each policy.
 */
import type { Kysely, Selectable } from 'kysely';
import type { FailureDetail, Policy } from '../rfc8460/types.js';
import type { Database, Store } from '../store/index.js';
import type { OutboundWindowTable, WindowFrequency } from '../store/tables/outbound.js';
import { normalizeDomain } from '../common/domain.js';
import { isoSeconds } from '../common/time.js';

export interface OutboundWindow {
  id: number;
  /** The domain whose TLSRPT record names the targets (RFC 8460 §4.4); policies keep their own policy-domain. */
  reportDomain: string;
  /** Epoch seconds, inclusive. */
  windowStart: number;
  /** Epoch seconds, exclusive. */
  windowEnd: number;
  frequency: WindowFrequency;
  state: 'open' | 'closed';
  createdAt: number;
  closedAt?: number;
}

/** The counters of one policy (with the TLSRPT record the MTA saw) in one window. */
export interface WindowPolicy {
  fingerprint: string;
  tlsrptRecord?: string;
  policy: Policy;
  successful: number;
  failed: number;
  /** Largest count first. */
  failureDetails: FailureDetail[];
}

export interface WindowContents extends OutboundWindow {
  policies: WindowPolicy[];
}

type Db = Kysely<Database>;
const dbOf = (s: Store | Db): Db => ('db' in s && 'kind' in s ? (s as Store).db : (s as Db));

/**
 * The open windows (optionally of one report domain) with their policies and failure details.
 * Reads what has been flushed: events still in a collector's memory (at most `collector.flushMs`
 * old) are not in it yet.
 */
export async function listOpenWindows(store: Store | Db, filter: { reportDomain?: string } = {}): Promise<WindowContents[]> {
  const db = dbOf(store);
  let q = db.selectFrom('outbound_window').selectAll().where('state', '=', 'open');
  if (filter.reportDomain) q = q.where('report_domain', '=', normalizeDomain(filter.reportDomain));
  const rows = await q.orderBy('report_domain').orderBy('window_start').execute();
  return fillWindows(db, rows.map(toWindow));
}

/**
 * One window with its counters, open or closed. Pass the delivery closer's transaction so the
 * read happens after its `FOR UPDATE` on the window row (docs/ARCHITECTURE.md, locking).
 */
export async function readWindow(store: Store | Db, windowId: number): Promise<WindowContents | undefined> {
  const db = dbOf(store);
  const row = await db.selectFrom('outbound_window').selectAll().where('id', '=', windowId).executeTakeFirst();
  if (!row) return undefined;
  return (await fillWindows(db, [toWindow(row)]))[0];
}

function toWindow(r: Selectable<OutboundWindowTable>): OutboundWindow {
  return {
    id: Number(r.id),
    reportDomain: r.report_domain,
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    frequency: r.frequency,
    state: r.state,
    createdAt: Number(r.created_at),
    ...(r.closed_at != null ? { closedAt: Number(r.closed_at) } : {}),
  };
}

async function fillWindows(db: Db, windows: OutboundWindow[]): Promise<WindowContents[]> {
  const out = new Map<number, WindowContents>(windows.map((w) => [w.id, { ...w, policies: [] }]));
  const ids = [...out.keys()];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const policies = await db.selectFrom('outbound_policy').selectAll().where('window_id', 'in', chunk).orderBy('window_id').orderBy('fingerprint').execute();
    const failures = await db.selectFrom('outbound_failure').selectAll().where('window_id', 'in', chunk).execute();
    const byPolicy = new Map<string, FailureDetail[]>();
    for (const f of failures) {
      const key = `${f.window_id}\0${f.fingerprint}`;
      const list = byPolicy.get(key) ?? [];
      list.push({ ...(JSON.parse(f.detail_json) as Omit<FailureDetail, 'failedSessionCount'>), failedSessionCount: Number(f.count) });
      byPolicy.set(key, list);
    }
    for (const p of policies) {
      const details = byPolicy.get(`${p.window_id}\0${p.fingerprint}`) ?? [];
      details.sort((a, b) => b.failedSessionCount - a.failedSessionCount || a.resultType.localeCompare(b.resultType));
      out.get(Number(p.window_id))!.policies.push({
        fingerprint: p.fingerprint,
        ...(p.tlsrpt_record != null ? { tlsrptRecord: p.tlsrpt_record } : {}),
        policy: JSON.parse(p.policy_json) as Policy,
        successful: Number(p.successful),
        failed: Number(p.failed),
        failureDetails: details,
      });
    }
  }
  return [...out.values()];
}

/** A failure detail in the RFC's JSON names (RFC 8460 §4.4), `extra` keys kept. */
export function failureDetailToJson(d: FailureDetail): Record<string, unknown> {
  const out: Record<string, unknown> = { 'result-type': d.resultType };
  if (d.sendingMtaIp !== undefined) out['sending-mta-ip'] = d.sendingMtaIp;
  if (d.receivingMxHostname !== undefined) out['receiving-mx-hostname'] = d.receivingMxHostname;
  if (d.receivingMxHelo !== undefined) out['receiving-mx-helo'] = d.receivingMxHelo;
  if (d.receivingIp !== undefined) out['receiving-ip'] = d.receivingIp;
  out['failed-session-count'] = d.failedSessionCount;
  if (d.additionalInformation !== undefined) out['additional-information'] = d.additionalInformation;
  if (d.failureReasonCode !== undefined) out['failure-reason-code'] = d.failureReasonCode;
  return { ...d.extra, ...out };
}

/**
 * A window as JSON for `tlsrpt outbound list --json` and `GET /api/v1/outbound/windows`:
 * window metadata plus, per policy, the RFC report's `policy` / `summary` / `failure-details`.
 */
export function windowToJson(w: WindowContents): Record<string, unknown> {
  return {
    id: w.id,
    reportDomain: w.reportDomain,
    windowStart: isoSeconds(w.windowStart),
    windowEnd: isoSeconds(w.windowEnd),
    frequency: w.frequency,
    state: w.state,
    policies: w.policies.map((p) => ({
      fingerprint: p.fingerprint,
      ...(p.tlsrptRecord !== undefined ? { tlsrptRecord: p.tlsrptRecord } : {}),
      policy: {
        ...p.policy.extra,
        'policy-type': p.policy.policyType,
        'policy-string': p.policy.policyString,
        'policy-domain': p.policy.policyDomain,
        'mx-host': p.policy.mxHost,
      },
      summary: { 'total-successful-session-count': p.successful, 'total-failure-session-count': p.failed },
      'failure-details': p.failureDetails.map(failureDetailToJson),
    })),
  };
}

/**
 * @module analysis/outbound-view — the sending side as the web UI shows it: the reporting windows
 * open now with their counts so far (as of the collector's last flush), the exact report JSON a
 * built report carries (the stored gzip, RFC 8460 §5.2, unpacked), and "send now" for one report:
 * it moves the report's due time and its waiting targets' next attempt to now, and the running
 * scheduler (which claims reports with row locks) sends it on its next pass — the UI never sends
 * by itself, so a report still goes out exactly once whichever node does it.
 */
import { gunzipSync } from 'node:zlib';
import type { Store } from '../store/index.js';
import { isoSeconds as iso } from '../common/time.js';

export interface OpenWindowView {
  id: number;
  policyDomain: string;
  windowStart: string;
  windowEnd: string;
  frequency: string;
  successful: number;
  failed: number;
  policies: number;
}

const num = (v: unknown) => Number(v ?? 0);

/** Open windows, busiest first (at most `limit`, default 200). */
export async function openWindows(store: Store, limit = 200): Promise<{ windows: OpenWindowView[]; total: number }> {
  const [rows, total] = await Promise.all([
    store.db.selectFrom('outbound_window as w')
      .leftJoin('outbound_policy as p', 'p.window_id', 'w.id')
      .where('w.state', '=', 'open')
      .select((eb) => ['w.id', 'w.report_domain', 'w.window_start', 'w.window_end', 'w.frequency',
        eb.fn.sum<number>('p.successful').as('successful'), eb.fn.sum<number>('p.failed').as('failed'),
        eb.fn.count<number>('p.fingerprint').as('policies')])
      .groupBy(['w.id', 'w.report_domain', 'w.window_start', 'w.window_end', 'w.frequency'])
      .execute(),
    store.db.selectFrom('outbound_window').where('state', '=', 'open').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const windows = rows.map((r) => ({
    id: Number(r.id), policyDomain: r.report_domain, windowStart: iso(num(r.window_start)), windowEnd: iso(num(r.window_end)),
    frequency: r.frequency, successful: num(r.successful), failed: num(r.failed), policies: num(r.policies),
  }));
  windows.sort((a, b) => b.successful + b.failed - (a.successful + a.failed) || (a.policyDomain < b.policyDomain ? -1 : a.policyDomain > b.policyDomain ? 1 : 0));
  return { windows: windows.slice(0, limit), total: num(total.n) };
}

/** The RFC JSON of a built report (the bytes every target gets, unpacked), or why there is none. */
export async function outboundReportJson(store: Store, id: number): Promise<{ json: string } | { missing: 'no-report' | 'not-built' }> {
  const r = await store.db.selectFrom('outbound_report').select(['gz', 'state']).where('id', '=', id).executeTakeFirst();
  if (!r) return { missing: 'no-report' };
  if (!r.gz) return { missing: 'not-built' };
  return { json: gunzipSync(Buffer.from(r.gz)).toString('utf8') };
}

export type ExpediteResult = { ok: true; targets: number } | { ok: false; reason: 'no-report' | 'not-sendable'; state?: string };

/**
 * Makes one built report due now. Only a report with targets still to try (pending) can be
 * hurried; sent and failed targets stay as they are.
 */
export async function expediteOutboundReport(store: Store, id: number, nowSeconds: number): Promise<ExpediteResult> {
  return store.db.transaction().execute(async (tx) => {
    const r = await tx.selectFrom('outbound_report').select(['state']).where('id', '=', id).executeTakeFirst();
    if (!r) return { ok: false, reason: 'no-report' } as const;
    if (r.state !== 'pending') return { ok: false, reason: 'not-sendable', state: r.state } as const;
    await tx.updateTable('outbound_report').set({ due_at: nowSeconds }).where('id', '=', id).where('due_at', '>', nowSeconds).execute();
    const u = await tx.updateTable('outbound_target').set({ next_attempt_at: nowSeconds })
      .where('outbound_report_id', '=', id).where('state', 'in', ['pending', 'retrying']).executeTakeFirst();
    return { ok: true, targets: Number(u.numUpdatedRows) } as const;
  });
}

/**
 * @module analysis/system-status — what the store says about the service's health, for the web
 * UI's system page: outbound reports and targets by state, acknowledged event batches not yet
 * counted (the journal), inbound reports stored and the last one received per channel (how an
 * operator sees whether an IMAP account or the SMTP listener still brings reports in), and the
 * collector instances with their heartbeats.
 */
import type { Store } from '../store/index.js';
import { isoSeconds as iso } from '../common/time.js';

export interface SystemStatus {
  outboundReports: Record<string, number>;
  outboundTargets: Record<string, number>;
  journalBatches: number;
  openWindows: number;
  inboundReports: number;
  /** Per channel (http, smtp, imap, file…): reports stored and the last receipt. */
  inboundChannels: { channel: string; reports: number; lastReceivedAt: string }[];
  collectors: { instanceId: string; hostname: string; pid: number; startedAt: string; heartbeatAt: string }[];
}

const num = (v: unknown) => Number(v ?? 0);

export async function systemStatus(store: Store): Promise<SystemStatus> {
  const [reports, targets, journal, open, channels, collectors] = await Promise.all([
    store.db.selectFrom('outbound_report').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state').execute(),
    store.db.selectFrom('outbound_target').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state').execute(),
    store.db.selectFrom('outbound_journal').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    store.db.selectFrom('outbound_window').where('state', '=', 'open').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    store.db.selectFrom('inbound_report')
      .select((eb) => ['channel', eb.fn.countAll<number>().as('n'), eb.fn.max<number>('received_at').as('last')])
      .groupBy('channel').execute(),
    store.db.selectFrom('outbound_collector').selectAll().orderBy('heartbeat_at', 'desc').limit(50).execute(),
  ]);
  const byState = (rows: { state: string; n: unknown }[]) => Object.fromEntries(rows.map((r) => [r.state, num(r.n)]).sort());
  return {
    outboundReports: byState(reports),
    outboundTargets: byState(targets),
    journalBatches: num(journal.n),
    openWindows: num(open.n),
    inboundReports: channels.reduce((a, c) => a + num(c.n), 0),
    inboundChannels: channels
      .map((c) => ({ channel: c.channel, reports: num(c.n), lastReceivedAt: iso(num(c.last)) }))
      .sort((a, b) => (a.channel < b.channel ? -1 : 1)),
    collectors: collectors.map((c) => ({
      instanceId: c.instance_id, hostname: c.hostname, pid: num(c.pid), startedAt: iso(num(c.started_at)), heartbeatAt: iso(num(c.heartbeat_at)),
    })),
  };
}

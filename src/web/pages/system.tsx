// System (`/system`): version, uptime, which parts run, the database, queue sizes and the
// service's own counters (the same figures /metrics exports).
import { useApi } from '../use-api';
import { Status } from '../components/status';
import { count, duration, when } from '../format';
import type { SystemStatus } from '../../analysis/system-status.js';

interface SystemView {
  version: string;
  node: string;
  uptimeSeconds: number;
  startedAt: string;
  database: string;
  parts: {
    http: { listen: string; tls: boolean; reportPath: string };
    collectorSocket: string | null;
    smtp: { listen: string; lmtp: boolean } | null;
    imap: { host: string; port: number; user: string; mailbox: string }[];
    relay: { host: string; port: number } | null;
    dkimDomains: string[];
  } | null;
  status: SystemStatus;
  counters: { name: string; labels: Record<string, string | number>; value: number }[];
}

const states = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${count(v)}`).join(', ') || 'none';

export function SystemPage() {
  const loaded = useApi<SystemView>('/api/v1/ui/system');
  return (
    <>
      <h1>System</h1>
      <Status loaded={loaded}>{(s) => {
        const imapLast = s.status.inboundChannels.find((c) => c.channel === 'imap');
        return (
          <>
            <dl class="stats grid">
              <dt>Version</dt><dd data-k="version">tlsrpt-hub {s.version} on Node {s.node}</dd>
              <dt>Uptime</dt><dd>{duration(s.uptimeSeconds)} (since {when(s.startedAt)})</dd>
              <dt>Database</dt><dd data-k="database">{s.database}</dd>
              <dt>HTTP</dt><dd>{s.parts ? `${s.parts.http.listen}${s.parts.http.tls ? ' (TLS)' : ''}, reports at ${s.parts.http.reportPath}` : '—'}</dd>
              <dt>Collector socket</dt><dd>{s.parts?.collectorSocket ?? 'off'}</dd>
              <dt>SMTP listener</dt><dd>{s.parts?.smtp ? `${s.parts.smtp.listen}${s.parts.smtp.lmtp ? ' (LMTP)' : ''}` : 'off'}</dd>
              <dt>IMAP accounts</dt><dd>{s.parts?.imap.length ? s.parts.imap.map((a) => `${a.user}@${a.host}:${a.port}/${a.mailbox}`).join(', ') + (imapLast ? `; last report by IMAP ${when(imapLast.lastReceivedAt)}` : '; no report by IMAP yet') : 'none'}</dd>
              <dt>Relay</dt><dd>{s.parts?.relay ? `${s.parts.relay.host}:${s.parts.relay.port}` : 'none (mailto: targets cannot be served)'}</dd>
              <dt>DKIM signing domains</dt><dd>{s.parts?.dkimDomains.join(', ') || 'none'}</dd>
            </dl>
            <section aria-labelledby="q-h">
              <h2 id="q-h">Queues</h2>
              <dl class="stats grid">
                <dt>Open windows</dt><dd data-k="openWindows">{count(s.status.openWindows)}</dd>
                <dt>Event batches not yet counted</dt><dd>{count(s.status.journalBatches)}</dd>
                <dt>Outbound reports</dt><dd>{states(s.status.outboundReports)}</dd>
                <dt>Delivery targets</dt><dd>{states(s.status.outboundTargets)}</dd>
                <dt>Inbound reports stored</dt><dd data-k="inboundReports">{count(s.status.inboundReports)}</dd>
              </dl>
              <table>
                <caption>Inbound reports by channel</caption>
                <thead><tr><th scope="col">Channel</th><th scope="col" class="num">Reports</th><th scope="col">Last received</th></tr></thead>
                <tbody>{s.status.inboundChannels.map((c) => <tr key={c.channel}><th scope="row">{c.channel}</th><td class="num">{count(c.reports)}</td><td>{when(c.lastReceivedAt)}</td></tr>)}</tbody>
              </table>
            </section>
            <section aria-labelledby="c-h">
              <h2 id="c-h">Counters</h2>
              <table>
                <thead><tr><th scope="col">Metric</th><th scope="col">Labels</th><th scope="col" class="num">Value</th></tr></thead>
                <tbody>
                  {s.counters.map((c, i) => (
                    <tr key={i}><td><code>{c.name}</code></td><td>{Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(' ')}</td><td class="num">{count(c.value)}</td></tr>
                  ))}
                </tbody>
              </table>
            </section>
          </>
        );
      }}</Status>
    </>
  );
}

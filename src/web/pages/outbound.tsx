// Outbound (`/outbound`): windows open now with their counts (refreshed every 10 s), built
// reports with each target's state, attempts, last error and next retry, "send now" for one
// report, and the report JSON that was or will be sent.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { useApi } from '../use-api';
import { Status } from '../components/status';
import { count, orDash, when } from '../format';
import type { OutboundReport, OutboundView } from '../types';

function ReportJson({ id }: { id: number }) {
  const [text, setText] = useState<string>();
  const [error, setError] = useState<string>();
  const load = () => api<string>(`/api/v1/outbound/reports/${id}/json`, { raw: true }).then(
    (t) => setText(JSON.stringify(JSON.parse(t), null, 2)), (e: Error) => setError(e.message));
  return (
    <details onToggle={(e) => (e.target as HTMLDetailsElement).open && text === undefined && load()}>
      <summary>Report JSON</summary>
      {error ? <p class="error">{error}</p> : text === undefined ? <p>Loading…</p> : <pre class="raw">{text}</pre>}
    </details>
  );
}

function SendNow({ report, onSent }: { report: OutboundReport; onSent: () => void }) {
  const [msg, setMsg] = useState('');
  if (report.state !== 'pending') return null;
  const send = async () => {
    try {
      const r = await api<{ message: string }>(`/api/v1/outbound/reports/${report.id}/send`, { method: 'POST' });
      setMsg(r.message);
      onSent();
    } catch (e) {
      setMsg((e as Error).message);
    }
  };
  return (
    <>
      <button type="button" onClick={send} aria-label={`Send now: report ${report.reportId ?? report.id}`}>Send now</button>
      {msg && <span role="status"> {msg}</span>}
    </>
  );
}

export function OutboundPage() {
  const loaded = useApi<OutboundView>('/api/v1/ui/outbound');
  useEffect(() => {
    const t = setInterval(loaded.reload, 10_000);
    return () => clearInterval(t);
  }, [loaded.reload]);
  return (
    <>
      <h1>Outbound</h1>
      <Status loaded={loaded}>{(o) => (
        <>
          <section aria-labelledby="win-h">
            <h2 id="win-h">Windows open now ({count(o.total)})</h2>
            {o.windows.length === 0 ? <p>No open window: no TLS outcome events since the last window closed.</p> : (
              <table>
                <thead><tr><th scope="col">Policy domain</th><th scope="col">Window</th><th scope="col">Frequency</th><th scope="col" class="num">Successful</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Policies</th></tr></thead>
                <tbody>
                  {o.windows.map((w) => (
                    <tr key={w.id}><th scope="row">{w.policyDomain}</th><td>{when(w.windowStart)} – {when(w.windowEnd)}</td><td>{w.frequency}</td>
                      <td class="num">{count(w.successful)}</td><td class="num">{count(w.failed)}</td><td class="num">{count(w.policies)}</td></tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section aria-labelledby="rep-h">
            <h2 id="rep-h">Built reports</h2>
            {o.reports.length === 0 ? <p>No report built yet.</p> : o.reports.map((r) => (
              <article key={r.id} class="outbound-report" aria-labelledby={`r-${r.id}`}>
                <h3 id={`r-${r.id}`}>{r.reportDomain} · {when(r.windowStart)} – {when(r.windowEnd)} · <span class={`state ${r.state}`}>{r.state}</span></h3>
                <p>{r.reportId ? <>report-id <code>{r.reportId}</code>, </> : null}{r.bytes ? `${count(r.bytes)} bytes, ` : ''}due {when(r.dueAt)}{r.reason ? ` — ${r.reason}` : ''}</p>
                {r.targets.length > 0 && (
                  <table>
                    <thead><tr><th scope="col">Target</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Last error</th><th scope="col">Next retry</th><th scope="col">Sent</th></tr></thead>
                    <tbody>
                      {r.targets.map((t) => (
                        <tr key={t.uri}><td><code>{t.uri}</code></td><td>{t.state}</td><td class="num">{t.attempts}</td><td>{orDash(t.lastError)}</td>
                          <td>{t.state === 'retrying' || t.state === 'pending' ? when(t.nextAttemptAt) : '—'}</td><td>{t.sentAt ? `${when(t.sentAt)} ${t.sentDetail ?? ''}` : '—'}</td></tr>
                      ))}
                    </tbody>
                  </table>
                )}
                <SendNow report={r} onSent={loaded.reload} />
                {r.bytes ? <ReportJson id={r.id} /> : null}
              </article>
            ))}
          </section>
        </>
      )}</Status>
    </>
  );
}

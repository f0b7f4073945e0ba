// Domain (`/domains/:domain`): the daily chart and who reports what about one policy domain.
import { useApi } from '../use-api';
import { Status } from '../components/status';
import { LazyDailyChart as DailyChart } from '../components/lazy-chart';
import { daysFrom, RangePicker } from '../components/range';
import { count, orDash, percent } from '../format';
import type { DomainDetail } from '../types';

/** `mode: enforce` and friends out of an MTA-STS policy string (RFC 8461 §3.2). */
const stsMode = (lines: string[]) => lines.map((l) => /^\s*mode\s*:\s*(\S+)/i.exec(l)?.[1]).find(Boolean);

export function DomainPage({ domain, query }: { domain: string; query: URLSearchParams }) {
  const days = daysFrom(query);
  const loaded = useApi<DomainDetail>(`/api/v1/ui/domains/${encodeURIComponent(domain)}?days=${days}`);
  const path = `/domains/${encodeURIComponent(domain)}`;
  return (
    <>
      <div class="title-row">
        <h1>{domain}</h1>
        <RangePicker days={days} path={path} />
      </div>
      <Status loaded={loaded}>{(d) => {
        const total = d.totals.successful + d.totals.failed;
        return (
          <>
            <dl class="stats inline">
              <dt>Sessions</dt><dd data-k="sessions">{count(total)}</dd>
              <dt>Failed</dt><dd data-k="failed">{count(d.totals.failed)}</dd>
              <dt>Failure rate</dt><dd>{percent(total ? d.totals.failed / total : 0)}</dd>
              <dt>Reports</dt><dd data-k="reports">{count(d.totals.reports)}</dd>
            </dl>
            <p><a href={`/reports?domain=${encodeURIComponent(domain)}`}>Reports about {domain}</a></p>
            <section aria-labelledby="chart-h">
              <h2 id="chart-h">Sessions per day ({d.from} to {d.to})</h2>
              <DailyChart detail={d} />
              <details>
                <summary>Figures per day</summary>
                <table>
                  <thead><tr><th scope="col">Day</th><th scope="col" class="num">Successful</th><th scope="col" class="num">Failed</th><th scope="col">By result type</th></tr></thead>
                  <tbody>
                    {d.daily.filter((p) => p.successful || p.failed).map((p) => (
                      <tr key={p.day}><th scope="row">{p.day}</th><td class="num">{count(p.successful)}</td><td class="num">{count(p.failed)}</td>
                        <td>{Object.entries(p.byResultType).map(([t, n]) => `${t} ${count(n)}`).join(', ')}</td></tr>
                    ))}
                  </tbody>
                </table>
              </details>
            </section>
            <section aria-labelledby="rep-h">
              <h2 id="rep-h">By reporter</h2>
              <table>
                <thead><tr><th scope="col">Reporter</th><th scope="col">Organization</th><th scope="col" class="num">Successful</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Reports</th><th scope="col">First seen</th><th scope="col">Last seen</th></tr></thead>
                <tbody>
                  {d.byReporter.map((r) => (
                    <tr key={r.reporter}><th scope="row">{r.reporter}</th><td>{r.organizationName}</td><td class="num">{count(r.successful)}</td>
                      <td class="num">{count(r.failed)}</td><td class="num">{count(r.reports)}</td><td>{r.firstDay}</td><td>{r.lastDay}</td></tr>
                  ))}
                </tbody>
              </table>
            </section>
            <div class="two">
              <section aria-labelledby="mx-h">
                <h2 id="mx-h">By receiving MX</h2>
                {d.byReceivingMx.length === 0 ? <p>No failure details.</p> : (
                  <table>
                    <thead><tr><th scope="col">MX host</th><th scope="col">IP</th><th scope="col" class="num">Failed</th><th scope="col">Result types</th></tr></thead>
                    <tbody>
                      {d.byReceivingMx.map((r, i) => (
                        <tr key={i}><td>{orDash(r.receivingMxHostname)}</td><td>{orDash(r.receivingIp)}</td><td class="num">{count(r.failed)}</td><td>{r.resultTypes.join(', ')}</td></tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section aria-labelledby="ip-h">
                <h2 id="ip-h">By sending MTA IP</h2>
                {d.bySendingIp.length === 0 ? <p>No failure details.</p> : (
                  <table>
                    <thead><tr><th scope="col">Sending MTA IP</th><th scope="col" class="num">Failed</th></tr></thead>
                    <tbody>{d.bySendingIp.map((r, i) => <tr key={i}><td>{orDash(r.sendingMtaIp)}</td><td class="num">{count(r.failed)}</td></tr>)}</tbody>
                  </table>
                )}
              </section>
            </div>
            <section aria-labelledby="pol-h">
              <h2 id="pol-h">Policies reporters saw</h2>
              <table>
                <thead><tr><th scope="col">Type</th><th scope="col">Mode</th><th scope="col">Policy string</th><th scope="col">MX patterns</th><th scope="col" class="num">Reports</th><th scope="col">First seen</th><th scope="col">Last seen</th></tr></thead>
                <tbody>
                  {d.policies.map((p, i) => (
                    <tr key={i}>
                      <td>{p.policyType}</td>
                      <td>{p.policyType === 'sts' ? orDash(stsMode(p.policyString)) : '—'}</td>
                      <td><ul class="plain">{p.policyString.map((l, j) => <li key={j}><code>{l}</code></li>)}</ul></td>
                      <td>{p.mxHost.join(', ') || '—'}</td>
                      <td class="num">{count(p.reports)}</td><td>{p.firstDay}</td><td>{p.lastDay}</td>
                    </tr>
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

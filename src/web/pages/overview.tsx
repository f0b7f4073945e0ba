// Overview (`/`): every policy domain we receive reports about, worst first, with the sending
// side beside it.
import { useApi } from '../use-api';
import { Status } from '../components/status';
import { Sparkline } from '../components/sparkline';
import { daysFrom, RangePicker } from '../components/range';
import { count, orDash, percent } from '../format';
import type { Overview } from '../types';

export function OverviewPage({ query }: { query: URLSearchParams }) {
  const days = daysFrom(query);
  const loaded = useApi<Overview>(`/api/v1/ui/overview?days=${days}`);
  return (
    <>
      <div class="title-row">
        <h1>Overview</h1>
        <RangePicker days={days} path="/" />
      </div>
      <Status loaded={loaded}>{(o) => (
        <div class="overview">
          <section aria-labelledby="receiving-h">
            <h2 id="receiving-h">Our domains, as others report them ({o.from} to {o.to})</h2>
            {o.domains.length === 0 ? <p>No reports in this range. Reports arrive at the public endpoint, by e-mail or with <code>tlsrpt import</code>.</p> : (
              <div class="scroll" tabIndex={0} role="region" aria-label="policy domains (scrolls sideways)">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Policy domain</th><th scope="col" class="num">Sessions</th><th scope="col" class="num">Failed</th>
                      <th scope="col" class="num">Failure rate</th><th scope="col">Trend</th><th scope="col" class="num">Reporters</th>
                      <th scope="col">Top failing MX</th><th scope="col">Top result type</th><th scope="col">Warnings</th>
                    </tr>
                  </thead>
                  <tbody>
                    {o.domains.map((d) => (
                      <tr key={d.policyDomain} data-domain={d.policyDomain}>
                        <th scope="row"><a href={`/domains/${encodeURIComponent(d.policyDomain)}?days=${days}`}>{d.policyDomain}</a></th>
                        <td class="num" data-k="sessions">{count(d.successful + d.failed)}</td>
                        <td class="num" data-k="failed">{count(d.failed)}</td>
                        <td class="num" data-k="rate">{percent(d.failureRate)}</td>
                        <td><Sparkline daily={d.daily} label={`daily failure share of ${d.policyDomain}`} /></td>
                        <td class="num" data-k="reporters">{count(d.reporters)}</td>
                        <td>{d.topFailingMx ? <>{orDash(d.topFailingMx.receivingMxHostname)} ({count(d.topFailingMx.failed)})</> : '—'}</td>
                        <td>{d.topResultType ? <>{d.topResultType.resultType} ({count(d.topResultType.failed)})</> : '—'}</td>
                        <td>{d.warnings.map((w) => <span class="badge warn" key={w.code} title={w.message}>⚠ {w.message}</span>)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section aria-labelledby="sending-h" class="panel">
            <h2 id="sending-h">Sending</h2>
            <dl class="stats">
              <dt>Domains we report on</dt><dd data-k="domainsReportedOn">{count(o.sending.domainsReportedOn)}</dd>
              <dt>Windows open now</dt><dd data-k="openWindows">{count(o.sending.openWindows)}</dd>
              <dt>Sessions in open windows</dt><dd>{count(o.sending.openWindowSessions.successful + o.sending.openWindowSessions.failed)} ({count(o.sending.openWindowSessions.failed)} failed)</dd>
              <dt>Reports waiting</dt><dd data-k="reportsWaiting">{count(o.sending.reportsWaiting)}</dd>
              <dt>Targets retrying</dt><dd data-k="targetsRetrying">{count(o.sending.targetsRetrying)}</dd>
              <dt>Reports failed</dt><dd data-k="reportsFailed">{count(o.sending.reportsFailed)}</dd>
            </dl>
            <p><a href="/outbound">Outbound queue</a></p>
          </section>
        </div>
      )}</Status>
    </>
  );
}

// Report (`/reports/:id`): one received report as parsed — every policy, every failure detail
// with all its fields, the parser's findings, DKIM, channel — and the raw JSON to read or save.
// Reports are written by strangers: every value below is a text node, never markup.
import { useMemo } from 'preact/hooks';
import { useApi } from '../use-api';
import { Status } from '../components/status';
import { count, orDash, when } from '../format';
import type { ReportDetail } from '../types';

function decodeBase64(b64: string): string {
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function RawJson({ detail }: { detail: ReportDetail }) {
  const text = useMemo(() => {
    const t = decodeBase64(detail.payload);
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      return t;
    }
  }, [detail.payload]);
  const href = useMemo(() => URL.createObjectURL(new Blob([decodeBase64(detail.payload)], { type: 'application/json' })), [detail.payload]);
  return (
    <section aria-labelledby="raw-h">
      <h2 id="raw-h">Raw JSON</h2>
      <p><a href={href} download={`tlsrpt-report-${detail.id}.json`}>Download the report JSON</a></p>
      <details><summary>Show the JSON as received</summary><pre class="raw">{text}</pre></details>
    </section>
  );
}

export function ReportPage({ id }: { id: string }) {
  const loaded = useApi<ReportDetail>(/^\d+$/.test(id) ? `/api/v1/inbound/reports/${id}` : undefined);
  if (!/^\d+$/.test(id)) return <><h1>Report</h1><p class="error">No report id {id}.</p></>;
  return (
    <Status loaded={loaded}>{(r) => (
      <>
        <h1>Report from {r.organizationName}</h1>
        <dl class="stats grid">
          <dt>Organization</dt><dd data-k="org">{r.report.organizationName}</dd>
          <dt>Report id</dt><dd data-k="report-id">{r.report.reportId}</dd>
          <dt>Reporter key</dt><dd>{r.reporter}</dd>
          <dt>Contact</dt><dd>{orDash(r.contactInfo)}</dd>
          <dt>Date range</dt><dd>{when(r.startDatetime)} – {when(r.endDatetime)}</dd>
          <dt>Sessions</dt><dd data-k="successful">{count(r.successful)} successful, {count(r.failed)} failed</dd>
          <dt>Channel</dt><dd>{r.channel}{r.peer ? ` from ${r.peer}` : ''}{r.source ? ` (${r.source})` : ''}</dd>
          <dt>Received</dt><dd>{when(r.receivedAt)}</dd>
          <dt>DKIM</dt><dd data-k="dkim">{r.dkim.result}{r.dkim.domain ? ` (d=${r.dkim.domain}${r.dkim.aligned ? ', aligned' : ', not aligned'})` : ''}</dd>
          {r.envelope?.mailFrom && <><dt>Envelope</dt><dd>{r.envelope.mailFrom} → {(r.envelope.rcptTo ?? []).join(', ')}</dd></>}
        </dl>
        {r.report.policies.map((p, i) => (
          <section key={i} aria-labelledby={`pol-${i}`} class="policy">
            <h2 id={`pol-${i}`}>Policy {i + 1}: {p.policy.policyType} for {p.policy.policyDomain}</h2>
            <dl class="stats grid">
              <dt>Successful sessions</dt><dd data-k="policy-successful">{count(p.summary.totalSuccessfulSessionCount)}</dd>
              <dt>Failed sessions</dt><dd data-k="policy-failed">{count(p.summary.totalFailureSessionCount)}</dd>
              <dt>MX patterns</dt><dd>{p.policy.mxHost.length ? <ul class="plain">{p.policy.mxHost.map((m, j) => <li key={j}><code>{m}</code></li>)}</ul> : '—'}</dd>
              <dt>Policy string</dt><dd>{p.policy.policyString.length ? <ul class="plain">{p.policy.policyString.map((l, j) => <li key={j}><code>{l}</code></li>)}</ul> : '—'}</dd>
            </dl>
            {p.failureDetails.length > 0 && (
              <div class="scroll" tabIndex={0} role="region" aria-label="failure details (scrolls sideways)">
                <table>
                  <caption>Failure details</caption>
                  <thead>
                    <tr><th scope="col">Result type</th><th scope="col">Sending MTA IP</th><th scope="col">Receiving MX host</th><th scope="col">Receiving MX HELO</th>
                      <th scope="col">Receiving IP</th><th scope="col" class="num">Failed sessions</th><th scope="col">Additional information</th><th scope="col">Failure reason code</th><th scope="col">Other keys</th></tr>
                  </thead>
                  <tbody>
                    {p.failureDetails.map((d, j) => (
                      <tr key={j}>
                        <td>{d.resultType}</td><td>{orDash(d.sendingMtaIp)}</td><td>{orDash(d.receivingMxHostname)}</td><td>{orDash(d.receivingMxHelo)}</td>
                        <td>{orDash(d.receivingIp)}</td><td class="num">{count(d.failedSessionCount)}</td><td>{orDash(d.additionalInformation)}</td>
                        <td>{orDash(d.failureReasonCode)}</td><td>{d.extra ? JSON.stringify(d.extra) : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        ))}
        <section aria-labelledby="find-h">
          <h2 id="find-h">Findings</h2>
          {r.findings.length === 0 ? <p>None: the report follows RFC 8460.</p> : (
            <ul>{r.findings.map((f, i) => <li key={i}><code>{f.code}</code>{f.path ? ` at ${f.path}` : ''}: {f.message}</li>)}</ul>
          )}
        </section>
        <RawJson detail={r} />
      </>
    )}</Status>
  );
}

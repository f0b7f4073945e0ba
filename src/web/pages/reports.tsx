// Reports (`/reports`): received reports, newest first, filtered by domain, reporter, dates,
// failures, channel and DKIM verification; the filters live in the URL so a view can be shared.
import { useState } from 'preact/hooks';
import { useApi } from '../use-api';
import { Status } from '../components/status';
import { navigate } from '../router';
import { count, when } from '../format';
import type { ReportListItem } from '../types';

const FILTERS = ['domain', 'reporter', 'from', 'to', 'hasFailures', 'channel', 'verified'] as const;
const PAGE = 50;

export function ReportsPage({ query }: { query: URLSearchParams }) {
  const apiQuery = new URLSearchParams();
  for (const f of FILTERS) {
    const v = query.get(f);
    if (v) apiQuery.set(f, v);
  }
  const offset = Number(query.get('offset') ?? 0) || 0;
  apiQuery.set('limit', String(PAGE));
  if (offset) apiQuery.set('offset', String(offset));
  const loaded = useApi<{ reports: ReportListItem[]; total: number; limit: number; offset: number }>(`/api/v1/inbound/reports?${apiQuery}`);
  const [form, setForm] = useState<Record<string, string>>(() => Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])));
  const set = (name: string) => (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value });
  const apply = (e: Event) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const f of FILTERS) if (form[f]) q.set(f, form[f]);
    navigate(`/reports${q.size ? `?${q}` : ''}`);
  };
  const page = (o: number) => {
    const q = new URLSearchParams(query);
    if (o) q.set('offset', String(o));
    else q.delete('offset');
    return `/reports?${q}`;
  };
  return (
    <>
      <h1>Reports</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter reports">
        <label>Policy domain <input name="domain" value={form.domain} onInput={set('domain')} /></label>
        <label>Reporter <input name="reporter" value={form.reporter} onInput={set('reporter')} /></label>
        <label>From <input name="from" type="date" value={form.from} onInput={set('from')} /></label>
        <label>To <input name="to" type="date" value={form.to} onInput={set('to')} /></label>
        <label>Failures
          <select name="hasFailures" value={form.hasFailures} onChange={set('hasFailures')}>
            <option value="">any</option><option value="true">with failures</option><option value="false">without failures</option>
          </select>
        </label>
        <label>Channel
          <select name="channel" value={form.channel} onChange={set('channel')}>
            <option value="">any</option>
            {['http', 'smtp', 'lmtp', 'imap', 'file'].map((c) => <option value={c} key={c}>{c}</option>)}
          </select>
        </label>
        <label>DKIM
          <select name="verified" value={form.verified} onChange={set('verified')}>
            <option value="">any</option><option value="true">verified (pass, aligned)</option><option value="false">not verified</option>
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      <Status loaded={loaded}>{(l) => (
        <>
          <p role="status" data-k="total">{count(l.total)} report{l.total === 1 ? '' : 's'}{l.total > PAGE ? `, ${l.offset + 1}–${Math.min(l.offset + l.reports.length, l.total)} shown` : ''}</p>
          <div class="scroll" tabIndex={0} role="region" aria-label="reports (scrolls sideways)">
            <table>
              <thead>
                <tr><th scope="col">Date range start</th><th scope="col">Reporter</th><th scope="col">Policy domains</th><th scope="col" class="num">Successful</th>
                  <th scope="col" class="num">Failed</th><th scope="col" class="num">Findings</th><th scope="col">Channel</th><th scope="col">DKIM</th><th scope="col">Report</th></tr>
              </thead>
              <tbody>
                {l.reports.map((r) => (
                  <tr key={r.id}>
                    <td>{when(r.startDatetime)}</td>
                    <td>{r.organizationName}{r.reporter !== r.organizationName.toLowerCase() ? <span class="muted"> ({r.reporter})</span> : null}</td>
                    <td>{r.policyDomains.join(', ')}</td>
                    <td class="num">{count(r.successful)}</td>
                    <td class="num">{count(r.failed)}</td>
                    <td class="num">{count(r.findingsCount)}</td>
                    <td>{r.channel}</td>
                    <td>{r.dkim.result}{r.dkim.aligned ? ' (aligned)' : ''}</td>
                    <td><a href={`/reports/${r.id}`}>{r.reportId.length > 40 ? `${r.reportId.slice(0, 40)}…` : r.reportId}</a></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            {l.offset > 0 && <a href={page(Math.max(0, l.offset - PAGE))}>Newer</a>}
            {l.offset + l.reports.length < l.total && <a href={page(l.offset + PAGE)}>Older</a>}
          </nav>
        </>
      )}</Status>
    </>
  );
}

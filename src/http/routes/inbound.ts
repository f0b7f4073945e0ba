/**
 * @module http/routes/inbound — the query API over received reports (token-protected under
 * /api): `GET /api/v1/inbound/reports` (filters domain, reporter, from, to, hasFailures; paging
 * limit/offset), `GET /api/v1/inbound/reports/{id}` and `GET /api/v1/inbound/summary` (domain,
 * from, to as days). Each answers CSV for `?format=csv` or `Accept: text/csv`.
 */
import { Hono, type Context } from 'hono';
import type { Store } from '../../store/index.js';
import { listInboundReports, getInboundReport, type ListInboundFilter } from '../../analysis/inbound-reports.js';
import { inboundSummary, type SummaryFilter } from '../../analysis/inbound-summary.js';
import { FilterError } from '../../analysis/filters.js';
import { listFilterFromQuery, summaryFilterFromQuery } from '../../analysis/inbound-filters.js';
import { toCsv } from '../../analysis/csv.js';

export interface InboundRoutesDeps {
  store: Store;
}

function wantsCsv(c: Context): boolean {
  const format = c.req.query('format');
  if (format) return format.toLowerCase() === 'csv';
  return /\btext\/csv\b/i.test(c.req.header('accept') ?? '');
}

function csv(c: Context, body: string, name: string) {
  return c.body(body, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.csv"` });
}

function badFilter(c: Context, e: unknown) {
  if (e instanceof FilterError) return c.json({ error: { code: e.code, message: e.message } }, 400);
  throw e;
}

const SUMMARY_BREAKDOWNS = {
  rows: ['policyDomain', 'day', 'reporter', 'organizationName', 'policyType', 'successful', 'failed', 'reports', 'verifiedReports'],
  totals: ['policyDomain', 'day', 'successful', 'failed', 'reports'],
  'result-type': ['policyDomain', 'day', 'resultType', 'failed'],
  mx: ['policyDomain', 'day', 'receivingMxHostname', 'failed'],
  ip: ['policyDomain', 'day', 'receivingIp', 'failed'],
} as const;

/**
 * @example app.route('/', inboundRoutes({ store }));
 */
export function inboundRoutes(deps: InboundRoutesDeps): Hono {
  const app = new Hono();
  const { store } = deps;

  app.get('/api/v1/inbound/reports', async (c) => {
    let filter: ListInboundFilter;
    try {
      filter = listFilterFromQuery((n) => c.req.query(n));
    } catch (e) {
      return badFilter(c, e);
    }
    const list = await listInboundReports(store, filter);
    if (!wantsCsv(c)) return c.json(list);
    const rows = list.reports.map((r) => ({
      ...r,
      policyDomains: r.policyDomains.join(' '),
      dkimResult: r.dkim.result,
      dkimDomain: r.dkim.domain,
      dkimAligned: r.dkim.aligned,
    }));
    const cols = ['id', 'day', 'startDatetime', 'endDatetime', 'reporter', 'organizationName', 'reportId', 'policyDomains', 'successful', 'failed',
      'findingsCount', 'channel', 'receivedAt', 'dkimResult', 'dkimDomain', 'dkimAligned', 'verified'] as const;
    return csv(c, toCsv(cols as unknown as (keyof (typeof rows)[number] & string)[], rows), 'inbound-reports');
  });

  app.get('/api/v1/inbound/reports/:id', async (c) => {
    const text = c.req.param('id');
    const id = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    const detail = Number.isSafeInteger(id) ? await getInboundReport(store, id) : undefined;
    if (!detail) return c.json({ error: { code: 'not-found', message: `no inbound report with id ${JSON.stringify(text)}` } }, 404);
    if (!wantsCsv(c)) return c.json(detail);
    // One line per failure detail (a policy without failures gets one line of its own).
    const lines: Record<string, string | number | null>[] = [];
    for (const p of detail.report.policies) {
      const base = {
        id: detail.id, reportId: detail.reportId, reporter: detail.reporter, day: detail.day,
        policyDomain: p.policy.policyDomain, policyType: p.policy.policyType,
        successful: p.summary.totalSuccessfulSessionCount, failed: p.summary.totalFailureSessionCount,
      };
      const empty = { resultType: null, receivingMxHostname: null, receivingIp: null, sendingMtaIp: null, failedSessionCount: null, failureReasonCode: null };
      if (!p.failureDetails.length) lines.push({ ...base, ...empty });
      for (const d of p.failureDetails) {
        lines.push({
          ...base,
          resultType: d.resultType,
          receivingMxHostname: d.receivingMxHostname ?? null,
          receivingIp: d.receivingIp ?? null,
          sendingMtaIp: d.sendingMtaIp ?? null,
          failedSessionCount: d.failedSessionCount,
          failureReasonCode: d.failureReasonCode ?? null,
        });
      }
    }
    const cols = ['id', 'reportId', 'reporter', 'day', 'policyDomain', 'policyType', 'successful', 'failed', 'resultType',
      'receivingMxHostname', 'receivingIp', 'sendingMtaIp', 'failedSessionCount', 'failureReasonCode'];
    return csv(c, toCsv(cols, lines), `inbound-report-${detail.id}`);
  });

  app.get('/api/v1/inbound/summary', async (c) => {
    let filter: SummaryFilter;
    try {
      filter = summaryFilterFromQuery((n) => c.req.query(n));
    } catch (e) {
      return badFilter(c, e);
    }
    const breakdown = (c.req.query('breakdown') ?? 'rows') as keyof typeof SUMMARY_BREAKDOWNS;
    if (!(breakdown in SUMMARY_BREAKDOWNS)) {
      return c.json({ error: { code: 'bad-filter', message: `breakdown: expected one of ${Object.keys(SUMMARY_BREAKDOWNS).join(', ')}` } }, 400);
    }
    const summary = await inboundSummary(store, filter);
    if (!wantsCsv(c)) return c.json(summary);
    const data = {
      rows: summary.rows, totals: summary.totals, 'result-type': summary.byResultType, mx: summary.byReceivingMx, ip: summary.byReceivingIp,
    }[breakdown] as unknown as Record<string, unknown>[];
    return csv(c, toCsv([...SUMMARY_BREAKDOWNS[breakdown]], data), `inbound-summary-${breakdown}`);
  });

  return app;
}

/**
 * @module http/routes/inbound — the query API over received reports (token-protected under
 * /api): `GET /api/v1/inbound/reports` (filters domain, reporter, from, to, hasFailures; paging
 * limit/offset), `GET /api/v1/inbound/reports/{id}` and `GET /api/v1/inbound/summary` (domain,
 * from, to as days; `breakdown` picks the CSV table). Each answers CSV for `?format=csv` or
 * `Accept: text/csv`. `GET /api/v1/inbound/export?format=parsedmarc-json|parsedmarc-csv|ndjson`
 * (the list filters) streams every matching report in parsedmarc's SMTP TLS shapes.
 */
import { Hono, type Context } from 'hono';
import type { Store } from '../../store/index.js';
import { listInboundReports, getInboundReport, type ListInboundFilter } from '../../analysis/inbound-reports.js';
import { inboundSummary, type SummaryFilter } from '../../analysis/inbound-summary.js';
import { FilterError } from '../../analysis/filters.js';
import { listFilterFromQuery, summaryFilterFromQuery } from '../../analysis/inbound-filters.js';
import { detailCsv, isSummaryBreakdown, listCsv, summaryCsv, SUMMARY_BREAKDOWNS } from '../../analysis/inbound-csv.js';
import { EXPORT_CONTENT_TYPES, EXPORT_FORMATS, EXPORT_FILE_NAMES, exportInbound, parseExportFormat, type ExportFormat } from '../../analysis/export.js';
import { z } from 'zod';
import { describeRoute } from '../openapi.js';

const format = z.enum(['json', 'csv']).optional().describe('csv: the same as text/csv (also by Accept: text/csv)');
const ListQuery = z.object({
  domain: z.string().optional().describe('policy domain'), reporter: z.string().optional().describe("reporter's organisational domain or organization-name"),
  from: z.string().optional().describe('YYYY-MM-DD, RFC 3339 date-time or epoch seconds'), to: z.string().optional().describe('inclusive day, date-time or epoch seconds'),
  hasFailures: z.enum(['true', 'false']).optional(), limit: z.string().regex(/^\d+$/).optional(), offset: z.string().regex(/^\d+$/).optional(), format,
});
const ExportQuery = ListQuery.omit({ limit: true, offset: true, format: true }).extend({
  format: z.enum(EXPORT_FORMATS).optional().describe('parsedmarc-json (default), parsedmarc-csv or ndjson'),
});
const SummaryQuery = z.object({
  domain: z.string().optional(), from: z.string().optional().describe('first day, YYYY-MM-DD'), to: z.string().optional().describe('last day, YYYY-MM-DD'),
  breakdown: z.enum(['rows', 'totals', 'result-type', 'mx', 'ip', 'mx-result-type']).optional().describe('CSV only: which table'), format,
});

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
    return csv(c, listCsv(list), 'inbound-reports');
  });
  describeRoute('GET', '/api/v1/inbound/reports', { summary: 'Received reports, newest first', tags: ['receiving'], query: ListQuery, responses: { 200: 'the reports (JSON or CSV)', 400: 'a bad filter' } });

  app.get('/api/v1/inbound/reports/:id', async (c) => {
    const text = c.req.param('id');
    const id = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    const detail = Number.isSafeInteger(id) ? await getInboundReport(store, id) : undefined;
    if (!detail) return c.json({ error: { code: 'not-found', message: `no inbound report with id ${JSON.stringify(text)}` } }, 404);
    if (!wantsCsv(c)) return c.json(detail);
    return csv(c, detailCsv(detail), `inbound-report-${detail.id}`);
  });
  describeRoute('GET', '/api/v1/inbound/reports/:id', { summary: 'One received report with findings and DKIM result', tags: ['receiving'], query: z.object({ format }), responses: { 200: 'the report (JSON or CSV)', 404: 'no such report' } });

  app.get('/api/v1/inbound/summary', async (c) => {
    let filter: SummaryFilter;
    try {
      filter = summaryFilterFromQuery((n) => c.req.query(n));
    } catch (e) {
      return badFilter(c, e);
    }
    const breakdown = c.req.query('breakdown') ?? 'rows';
    if (!isSummaryBreakdown(breakdown)) {
      return c.json({ error: { code: 'bad-filter', message: `breakdown: expected one of ${Object.keys(SUMMARY_BREAKDOWNS).join(', ')}` } }, 400);
    }
    const summary = await inboundSummary(store, filter);
    if (!wantsCsv(c)) return c.json(summary);
    return csv(c, summaryCsv(summary, breakdown), `inbound-summary-${breakdown}`);
  });
  describeRoute('GET', '/api/v1/inbound/summary', { summary: 'Sessions per policy domain, day, reporter and policy type, with breakdowns', tags: ['receiving'], query: SummaryQuery, responses: { 200: 'the summary (JSON or CSV)', 400: 'a bad filter' } });

  // Streamed: the body is produced report by report as the client reads it, whatever the store holds.
  app.get('/api/v1/inbound/export', async (c) => {
    let filter: ListInboundFilter;
    let format: ExportFormat;
    try {
      format = parseExportFormat(c.req.query('format'));
      filter = listFilterFromQuery((n) => c.req.query(n));
    } catch (e) {
      return badFilter(c, e);
    }
    const chunks = exportInbound(store, format, filter);
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    return c.body(body, 200, {
      'content-type': EXPORT_CONTENT_TYPES[format],
      'content-disposition': `attachment; filename="${EXPORT_FILE_NAMES[format]}"`,
    });
  });
  describeRoute('GET', '/api/v1/inbound/export', { summary: "Every matching report, streamed in parsedmarc's SMTP TLS shapes or as NDJSON", tags: ['receiving'], query: ExportQuery, responses: { 200: 'the reports (parsedmarc JSON or CSV, or NDJSON)', 400: 'a bad filter or format' } });

  return app;
}

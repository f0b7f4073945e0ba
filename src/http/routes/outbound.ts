/**
 * @module http/routes/outbound — `GET /api/v1/outbound/reports` (token-protected under /api):
 * the built reports, newest first, each with every rua target's delivery state (pending, sent,
 * retrying with next attempt and last error, failed). Query: `domain`, `state` (comma list),
 * `limit` (≤ 1000), `before` (an id, for paging).
 */
import { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import { listReports, reportViewToJson } from '../../analysis/outbound-reports.js';
import type { OutboundReportState } from '../../store/tables/delivery.js';
import { z } from 'zod';
import { describeRoute } from '../openapi.js';

const STATES: readonly OutboundReportState[] = ['building', 'pending', 'done', 'failed', 'dropped', 'skipped'];

export function outboundRoutes(deps: { store: Store }): Hono {
  const app = new Hono();
  app.get('/api/v1/outbound/reports', async (c) => {
    const states = (c.req.query('state') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const bad = states.find((s) => !STATES.includes(s as OutboundReportState));
    if (bad) return c.json({ error: { code: 'bad-request', message: `unknown state ${JSON.stringify(bad)}; one of ${STATES.join(', ')}` } }, 400);
    const num = (name: string) => {
      const v = c.req.query(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      return Number.isInteger(n) && n > 0 ? n : NaN;
    };
    const limit = num('limit');
    const before = num('before');
    if (Number.isNaN(limit) || Number.isNaN(before)) return c.json({ error: { code: 'bad-request', message: 'limit and before must be positive integers' } }, 400);
    const reports = await listReports(deps.store, {
      reportDomain: c.req.query('domain') || undefined, states: states as OutboundReportState[], limit, beforeId: before,
    });
    return c.json({ reports: reports.map(reportViewToJson) });
  });
  describeRoute('GET', '/api/v1/outbound/reports', { summary: "Built reports, newest first, with each rua target's delivery state", tags: ['sending'],
    query: z.object({
      domain: z.string().optional().describe('policy domain'), state: z.string().optional().describe(`comma list of ${STATES.join(', ')}`),
      limit: z.string().regex(/^\d+$/).optional().describe('at most 1000'), before: z.string().regex(/^\d+$/).optional().describe('an id, for paging'),
    }),
    responses: { 200: 'the reports', 400: 'a bad parameter' } });
  return app;
}

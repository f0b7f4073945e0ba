/**
 * @module http/routes/alerts — `GET /api/v1/alerts` (token-protected): the alert history, newest
 * first; filters `domain`, `rule`, `severity`, `since` (day, date-time or epoch seconds), `limit`.
 */
import { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import { listAlerts } from '../../analysis/alerts/index.js';
import { FilterError, parseCount, parseTimeBound } from '../../analysis/filters.js';
import { normalizeDomain } from '../../common/domain.js';
import { z } from 'zod';
import { describeRoute } from '../openapi.js';

const AlertsQuery = z.object({
  domain: z.string().optional().describe('policy domain'), rule: z.string().optional(), severity: z.string().optional(),
  since: z.string().optional().describe('YYYY-MM-DD, RFC 3339 date-time or epoch seconds'), limit: z.string().regex(/^\d+$/).optional().describe('1 to 1000'),
});

export function alertsRoutes(deps: { store: Store }): Hono {
  const app = new Hono();
  app.get('/api/v1/alerts', async (c) => {
    try {
      const q = (n: string) => c.req.query(n) || undefined;
      const since = q('since');
      const limit = q('limit');
      return c.json(await listAlerts(deps.store, {
        domain: q('domain') && normalizeDomain(q('domain')!), rule: q('rule'), severity: q('severity'),
        since: since ? parseTimeBound('since', since, 'from') : undefined,
        limit: limit ? parseCount('limit', limit, 1, 1000) : undefined,
      }));
    } catch (e) {
      if (e instanceof FilterError) return c.json({ error: { code: e.code, message: e.message } }, 400);
      throw e;
    }
  });
  describeRoute('GET', '/api/v1/alerts', { summary: 'The alert history, newest first', tags: ['receiving'], query: AlertsQuery, responses: { 200: 'the alerts', 400: 'a bad filter' } });
  return app;
}

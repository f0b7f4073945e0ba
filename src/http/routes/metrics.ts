/**
 * @module http/routes/metrics — `GET /metrics`: the process's Prometheus metrics (text format).
 * Needs the admin bearer token like `/api/*` (counters reveal traffic volumes and domains'
 * activity); Prometheus sends it with `authorization: { credentials: <token> }` in its scrape config.
 */
import { Hono } from 'hono';
import { requireAdmin, type AdminAuth } from '../auth.js';
import { registry } from '../../common/metrics.js';
import { describeRoute } from '../openapi.js';

/** @example app.route('/', metricsRoutes({ auth })); */
export function metricsRoutes(deps: { auth: AdminAuth | undefined }): Hono {
  const app = new Hono();
  app.use('/metrics', requireAdmin(deps.auth));
  app.get('/metrics', async (c) => {
    const text = await registry.metrics();
    return c.body(text, 200, { 'Content-Type': registry.contentType });
  });
  describeRoute('GET', '/metrics', { summary: 'Prometheus metrics (text format)', tags: ['meta'], auth: 'admin', responses: { 200: { description: 'metrics', contentType: 'text/plain' } } });
  return app;
}

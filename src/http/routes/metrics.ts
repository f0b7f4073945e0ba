/**
 * @module http/routes/metrics — `GET /metrics`: the process's Prometheus metrics (text format).
 * Needs the admin bearer token when `http.token` is set (counters reveal traffic volumes).
 */
import { Hono } from 'hono';
import { registry } from '../../metrics.js';
import { bearer } from './events.js';

/** @example app.route('/', metricsRoutes({ token: config.http.token })); */
export function metricsRoutes(deps: { token?: string } = {}): Hono {
  const app = new Hono();
  if (deps.token) app.use('/metrics', bearer(deps.token));
  app.get('/metrics', async (c) => {
    const text = await registry.metrics();
    return c.body(text, 200, { 'Content-Type': registry.contentType });
  });
  return app;
}

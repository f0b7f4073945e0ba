/**
 * @module http/routes/events — the collector's HTTP API: `POST /api/v1/events` (a batch of TLS
 * session outcomes; 200 only once durable in the store, 503 when the store cannot take them) and `GET /api/v1/outbound/windows` (what has been
 * collected per open window). Token-protected by the app's `/api/*` auth (src/http/app.ts).
 */
import { Hono, type Context } from 'hono';
import { ingestEventsJson, type Collector } from '../../sending/index.js';
import { listOpenWindows, windowToJson } from '../../analysis/outbound-windows.js';
import type { Store } from '../../store/index.js';
import { z } from 'zod';
import { EventBatchJson } from '../../sending/collect/event.js';
import { describeRoute } from '../openapi.js';

export interface EventsRoutesDeps {
  collector: Collector;
  store: Store;
  /** `http.maxBodyBytes`. */
  maxBodyBytes: number;
}

/**
 * @example app.route('/', eventsRoutes({ collector, store, maxBodyBytes: 26214400 }));
 */
export function eventsRoutes(deps: EventsRoutesDeps): Hono {
  const app = new Hono();

  app.post('/api/v1/events', async (c) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > deps.maxBodyBytes) {
      return problem(c, 413, 'too-large', `the body (${declared} bytes) exceeds http.maxBodyBytes = ${deps.maxBodyBytes}; send smaller batches`);
    }
    const body = await c.req.arrayBuffer();
    if (body.byteLength > deps.maxBodyBytes) return problem(c, 413, 'too-large', `the body exceeds http.maxBodyBytes = ${deps.maxBodyBytes}; send smaller batches`);
    let r;
    try {
      r = await ingestEventsJson(deps.collector, new Uint8Array(body));
    } catch (e) {
      // The journal could not be written: nothing was counted, the client should retry.
      c.header('Retry-After', '5');
      return c.json({ error: { code: 'unavailable', message: `the events could not be stored now (${(e as Error).message}); retry later` } }, 503);
    }
    if (!r.ok) return c.json({ error: { code: r.code, ...(r.path !== undefined ? { path: r.path } : {}), message: r.message } }, 400);
    return c.json({ accepted: r.summary.accepted, dropped: r.summary.dropped }, 200);
  });
  describeRoute('POST', '/api/v1/events', { summary: 'A batch of TLS session outcomes (RFC 8460 names); all or nothing, 200 once durable', tags: ['sending'], body: EventBatchJson,
    responses: { 200: { description: 'stored', schema: z.object({ accepted: z.number().int(), dropped: z.record(z.string(), z.number().int()) }) }, 400: 'a bad field, with its path', 413: 'over http.maxBodyBytes', 503: 'not stored; retry' } });

  app.get('/api/v1/outbound/windows', async (c) => {
    const domain = c.req.query('domain');
    const windows = await listOpenWindows(deps.store, domain ? { reportDomain: domain } : {});
    return c.json({ windows: windows.map(windowToJson) });
  });
  describeRoute('GET', '/api/v1/outbound/windows', { summary: 'Open reporting windows: what has been collected per policy domain', tags: ['sending'],
    query: z.object({ domain: z.string().optional().describe('only this policy domain') }) });
  return app;
}

function problem(c: Context, status: 400 | 413, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

/**
 * @module http/routes/events — the collector's HTTP API: `POST /api/v1/events` (a batch of TLS
 * session outcomes; 200 only once stored) and `GET /api/v1/outbound/windows` (what has been
 * collected per open window). Token-protected like all of `/api`.
 */
import { Hono, type Context } from 'hono';
import type { Collector } from '../../sending/collector.js';
import { ingestEventsJson } from '../../sending/sources/http.js';
import { listOpenWindows, windowToJson } from '../../sending/windows.js';
import type { Store } from '../../store/index.js';

export interface EventsRoutesDeps {
  collector: Collector;
  store: Store;
  /** `http.maxBodyBytes`. */
  maxBodyBytes: number;
  /** `http.token`: when set, requests need `Authorization: Bearer <token>` (also enforced app-wide for /api). */
  token?: string;
}

/**
 * @example app.route('/', eventsRoutes({ collector, store, maxBodyBytes: 26214400, token }));
 */
export function eventsRoutes(deps: EventsRoutesDeps): Hono {
  const app = new Hono();
  if (deps.token) {
    // Scoped to our own paths: other areas' routes keep the app-wide /api policy.
    app.use('/api/v1/events', bearer(deps.token));
    app.use('/api/v1/outbound/windows', bearer(deps.token));
  }

  app.post('/api/v1/events', async (c) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > deps.maxBodyBytes) {
      return problem(c, 413, 'too-large', `the body (${declared} bytes) exceeds http.maxBodyBytes = ${deps.maxBodyBytes}; send smaller batches`);
    }
    const body = await c.req.arrayBuffer();
    if (body.byteLength > deps.maxBodyBytes) return problem(c, 413, 'too-large', `the body exceeds http.maxBodyBytes = ${deps.maxBodyBytes}; send smaller batches`);
    const r = await ingestEventsJson(deps.collector, new Uint8Array(body));
    if (!r.ok) return c.json({ error: { code: r.code, ...(r.path !== undefined ? { path: r.path } : {}), message: r.message } }, 400);
    return c.json({ accepted: r.summary.accepted, dropped: r.summary.dropped }, 200);
  });

  app.get('/api/v1/outbound/windows', async (c) => {
    const domain = c.req.query('domain');
    const windows = await listOpenWindows(deps.store, domain ? { policyDomain: domain } : {});
    return c.json({ windows: windows.map(windowToJson) });
  });
  return app;
}

function problem(c: Context, status: 400 | 401 | 413, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

/** Constant-time-ish bearer check (the token is compared whole, not prefix by prefix). */
export function bearer(token: string) {
  const expected = `Bearer ${token}`;
  return async (c: Context, next: () => Promise<void>) => {
    const got = c.req.header('authorization') ?? '';
    let diff = got.length ^ expected.length;
    for (let i = 0; i < expected.length; i++) diff |= (got.charCodeAt(i) || 0) ^ expected.charCodeAt(i);
    if (diff !== 0) {
      c.header('WWW-Authenticate', 'Bearer');
      return problem(c, 401, 'unauthorized', 'missing or wrong bearer token: send "Authorization: Bearer <http.token>"');
    }
    await next();
  };
}

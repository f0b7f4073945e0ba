/**
 * @module http/app — the one Hono app of the service: `/healthz` (never needs the token), bearer
 * auth on everything under `/api/*`, a request body limit, and JSON errors
 * `{"error": {"code", "message", …}}` for every failure.
 *
 * How an area adds its routes (in `src/service.ts`, after `createApp`):
 *
 *   // src/http/routes/<area>.ts exports `<area>Routes(deps): Hono` with full paths inside it
 *   app.route('/', outboundRoutes({ store, settings }));   // GET /api/v1/outbound/reports …
 *
 * Next to each route, one `describeRoute(METHOD, path, { summary, query?, body?, responses? })`
 * (src/http/openapi.ts) puts it in `GET /api/v1/openapi.json`; the OpenAPI test fails for a
 * route without one.
 *
 * Paths under `/api/` are token-protected automatically (the auth middleware is registered
 * here, before any route). Public endpoints (the RFC 8460 §5.4 report path) live outside
 * `/api/`. Routes that take large bodies check their own size against `http.maxBodyBytes`;
 * the app-wide limit below is the outer bound.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../common/log.js';
import { requireAdmin, type AdminAuth } from './auth.js';
import { describeRoute } from './openapi.js';

export type HttpApp = Hono;

export interface AppOptions {
  /** Who may call `/api/*`. Without it every `/api` request is refused with 401 (never open by accident). */
  auth?: AdminAuth;
  /** Largest request body anywhere (default 26214400, `http.maxBodyBytes`). */
  maxBodyBytes?: number;
  /** Where 5xx errors are logged. */
  log?: Logger;
}

const CODES: Record<number, string> = {
  400: 'bad-request', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 405: 'method-not-allowed',
  408: 'timeout', 409: 'conflict', 413: 'too-large', 415: 'unsupported-media-type', 422: 'unprocessable', 429: 'too-many-requests',
};

/** A JSON error response in the app's one shape. */
export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}

/**
 * @example
 * const app = createApp({ auth: tokenAuth(config.http.token!), maxBodyBytes: config.http.maxBodyBytes, log });
 * app.route('/', settingsRoutes({ settings }));
 */
export function createApp(opts: AppOptions = {}): HttpApp {
  const app = new Hono();
  const maxBodyBytes = opts.maxBodyBytes ?? 26214400;
  app.get('/healthz', (c) => c.json({ ok: true }));
  describeRoute('GET', '/healthz', { summary: 'Liveness: answers {"ok": true} without a token', tags: ['meta'] });
  app.use('/api/*', requireAdmin(opts.auth));
  app.use('*', bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => c.json(errorBody('too-large', `the request body exceeds ${maxBodyBytes} bytes (http.maxBodyBytes)`), 413),
  }));
  app.notFound((c) => c.json(errorBody('not-found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    const status = err instanceof HTTPException ? err.status : (err as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      return c.json(errorBody(CODES[status] ?? 'bad-request', err.message || CODES[status] || 'bad request'), status as ContentfulStatusCode);
    }
    opts.log?.error({ err, method: c.req.method, path: c.req.path }, 'http request failed');
    return c.json(errorBody('internal', 'internal error'), 500);
  });
  return app;
}

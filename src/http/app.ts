/**
 * @module http/app — the one Hono app of the service. Areas contribute their routes as
 * `HttpRoutes` (see `service.ts`); `/healthz` is always there and never needs the token.
 */
import { Hono } from 'hono';

export type HttpApp = Hono;

export function createApp(): HttpApp {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.notFound((c) => c.json({ error: { code: 'not-found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((err, c) => {
    const status = (err as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      return c.json({ error: { code: 'bad-request', message: err.message } }, status as 400);
    }
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });
  return app;
}

/**
 * @module http/routes/settings — `GET /api/v1/settings`, `GET /api/v1/settings/{name}` and
 * `PUT /api/v1/settings/{name}` for the singletons TlsReportSettings, ReportSettings and
 * SystemSettings. A PUT body is the whole singleton as Stalwart writes it (fields left out take
 * their defaults); it is validated first and nothing is stored on error (400 with field,
 * position and message). Token-protected like all of `/api`.
 */
import { Hono } from 'hono';
import { isSingletonName, SINGLETONS, type SettingsHandle } from '../../settings/index.js';
import { errorBody } from '../app.js';

export interface SettingsRoutesDeps {
  settings: Pick<SettingsHandle, 'effective' | 'update'>;
  /** Largest PUT body (default 1 MiB; a singleton is a few hundred bytes). */
  maxBodyBytes?: number;
}

/** @example app.route('/', settingsRoutes({ settings })); */
export function settingsRoutes(deps: SettingsRoutesDeps): Hono {
  const app = new Hono();
  const maxBodyBytes = deps.maxBodyBytes ?? 1048576;

  app.get('/api/v1/settings', (c) => c.json({ settings: deps.settings.effective() }));

  app.get('/api/v1/settings/:name', (c) => {
    const name = c.req.param('name');
    if (!isSingletonName(name)) return c.json(errorBody('unknown-settings', `no settings named ${name}: expected one of ${SINGLETONS.join(', ')}`), 404);
    return c.json(deps.settings.effective()[name]);
  });

  app.put('/api/v1/settings/:name', async (c) => {
    const name = c.req.param('name');
    if (!isSingletonName(name)) return c.json(errorBody('unknown-settings', `no settings named ${name}: expected one of ${SINGLETONS.join(', ')}`), 404);
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > maxBodyBytes) return c.json(errorBody('too-large', `settings bodies are limited to ${maxBodyBytes} bytes`), 413);
    const text = await c.req.text();
    if (Buffer.byteLength(text) > maxBodyBytes) return c.json(errorBody('too-large', `settings bodies are limited to ${maxBodyBytes} bytes`), 413);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      return c.json(errorBody('invalid-json', `the body is not JSON: ${(e as Error).message}`), 400);
    }
    const r = await deps.settings.update(name, body);
    if (!r.ok) {
      const first = r.errors[0] ?? { field: name, message: 'invalid' };
      return c.json(errorBody('invalid-settings', `${first.field}: ${first.message}${r.errors.length > 1 ? ` (and ${r.errors.length - 1} more)` : ''}`, {
        field: first.field,
        ...(first.position !== undefined ? { position: first.position } : {}),
        errors: r.errors,
      }), 400);
    }
    return c.json({ ...deps.settings.effective()[name], version: r.version });
  });

  return app;
}

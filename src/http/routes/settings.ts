/**
 * @module http/routes/settings — `GET /api/v1/settings`, `GET /api/v1/settings/{name}` and
 * `PUT /api/v1/settings/{name}` for the singletons TlsReportSettings, ReportSettings and
 * SystemSettings. A PUT body is the whole singleton as Stalwart writes it (fields left out take
 * their defaults); it is validated first and nothing is stored on error (400 with field,
 * position and message). A field the config file sets is locked: a PUT may leave it out or
 * repeat it unchanged; changing it answers 409 `locked-by-file` with `fields`. A GET answers
 * `{name, origin, version?, value, fields: {FIELD: {value, source: "default"|"file"|"stored",
 * locked}}}` (see `EffectiveSingleton`). Token-protected like all of `/api`.
 */
import { Hono } from 'hono';
import { isSingletonName, SINGLETONS, type SettingsHandle } from '../../settings/index.js';
import { z } from 'zod';
import { errorBody } from '../app.js';
import { describeRoute } from '../openapi.js';

const SettingsName = z.enum(SINGLETONS);
/** A setting value as Stalwart writes it: a plain expression, or {"else": EXPR} / {"match": [{"if", "then"}], "else"}. */
const SettingValue = z.union([
  z.string(), z.number(), z.boolean(), z.array(z.string()),
  z.object({ match: z.array(z.object({ if: z.string(), then: z.unknown() })).optional(), else: z.unknown() }),
]).meta({ id: 'SettingValue' });
/** One field in force: GET shows the source and whether the config file locks it (a PUT changing it gets 409). */
const EffectiveField = z.object({
  value: z.unknown().describe('the value in force, in the form a user writes it (the default when unset)'),
  source: z.enum(['default', 'file', 'stored']).describe('file: set in the config file; stored: set through the API or CLI'),
  locked: z.boolean().describe('true when the config file sets it: the API refuses to change it (409 locked-by-file)'),
}).meta({ id: 'EffectiveField' });
const EffectiveSingleton = z.object({
  name: SettingsName,
  origin: z.enum(['default', 'file', 'stored']).describe('stored when the store holds this singleton, else file when the file sets a field, else default'),
  version: z.number().int().optional().describe('the stored version (grows on every write)'),
  value: z.record(z.string(), z.unknown()).describe('the object in force: stored fields with the file\'s on top'),
  fields: z.record(z.string(), EffectiveField),
}).meta({ id: 'EffectiveSingleton' });
const SettingsBody = z.record(z.string(), SettingValue).describe('the whole singleton; fields left out take their defaults (or the file\'s value)');

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
  describeRoute('GET', '/api/v1/settings', { summary: 'All settings singletons in force, field by field', tags: ['settings'],
    responses: { 200: { description: 'by singleton name', schema: z.object({ settings: z.record(SettingsName, EffectiveSingleton) }) } } });

  app.get('/api/v1/settings/:name', (c) => {
    const name = c.req.param('name');
    if (!isSingletonName(name)) return c.json(errorBody('unknown-settings', `no settings named ${name}: expected one of ${SINGLETONS.join(', ')}`), 404);
    return c.json(deps.settings.effective()[name]);
  });
  describeRoute('GET', '/api/v1/settings/:name', { summary: 'One settings singleton: value in force, and per field its source and lock', tags: ['settings'],
    responses: { 200: { description: 'the singleton', schema: EffectiveSingleton }, 404: 'no such singleton' } });

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
    if (!r.ok && r.reason === 'locked') {
      // The config file sets these fields (settings precedence): only the file changes them.
      return c.json(errorBody('locked-by-file', `${r.fields.join(', ')} ${r.fields.length > 1 ? 'are' : 'is'} set in the config file and cannot be changed through the API; change the file (or remove the field there to manage it here)`, {
        fields: r.fields,
      }), 409);
    }
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
  describeRoute('PUT', '/api/v1/settings/:name', { summary: 'Replace a settings singleton (validated; fields the config file sets are locked)', tags: ['settings'], body: SettingsBody,
    responses: { 200: { description: 'stored and in force', schema: EffectiveSingleton }, 400: 'invalid value: field, position, message', 404: 'no such singleton', 409: 'changes a field the config file sets (code locked-by-file, fields)', 413: 'body too large' } });

  return app;
}

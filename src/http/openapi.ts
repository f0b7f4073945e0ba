/**
 * @module http/openapi — the OpenAPI 3.1 document of the HTTP app (`GET /api/v1/openapi.json`),
 * generated from the zod schemas that validate requests (zod 4's `z.toJSONSchema`; OpenAPI 3.1
 * schemas are JSON Schema 2020-12) and from the routes the app really has.
 *
 * Documenting a route is one call next to it, in the route factory:
 *
 *   app.get('/api/v1/outbound/reports', handler);
 *   describeRoute('GET', '/api/v1/outbound/reports', { summary: 'Built reports with delivery states', query: OutboundQuery });
 *
 * `test/http/openapi.test.ts` fails when a route of the app has no description or a description
 * has no route. Paths use Hono's `:param` form; the document shows `{param}`.
 */
import { Hono } from 'hono';
import { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteResponse {
  description: string;
  /** JSON body schema (content type application/json unless `contentType` says otherwise). */
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  /** Who may call it: the admin token (default for /api/*), anyone, or the admin token on a path outside /api. */
  auth?: 'admin' | 'none';
  /** Query parameters: an object schema, one parameter per key. */
  query?: z.ZodObject;
  /** Request body (JSON unless `bodyContentType`). */
  body?: z.ZodType;
  bodyContentType?: string;
  /** Responses by status; 200 with no schema when left out. Error statuses get the shared error body. */
  responses?: Record<number, RouteResponse | string>;
  tags?: string[];
}

const registry = new Map<string, RouteDoc>();
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Describes one route for the OpenAPI document (call it where the route is added). */
export function describeRoute(method: HttpMethod, path: string, doc: RouteDoc): void {
  registry.set(key(method, path), doc);
}

/** Every described route (method + Hono path), for the test that compares them with the app's. */
export function describedRoutes(): { method: string; path: string }[] {
  return [...registry.keys()].map((k) => {
    const [method = '', path = ''] = k.split(' ');
    return { method, path };
  });
}

/** The description of a route, if any (tests). */
export function routeDoc(method: string, path: string): RouteDoc | undefined {
  return registry.get(key(method, path));
}

/** Every route the app answers (method + Hono path), without middleware entries. */
export function appRoutes(app: Hono): { method: string; path: string }[] {
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const k = key(r.method, r.path);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ method: r.method.toUpperCase(), path: r.path });
  }
  return out;
}

/** The shared error body of every failure: `{"error": {"code", "message", …}}`. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe('machine-readable cause, e.g. invalid-settings, locked-by-file, unauthorized'),
    message: z.string().describe('what went wrong and what to do, in words'),
  }).catchall(z.unknown()),
}).meta({ id: 'Error' });

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No content', 400: 'Bad request', 401: 'Missing or wrong bearer token', 404: 'Not found',
  409: 'Conflict', 413: 'Body too large', 429: 'Too many requests', 503: 'Unavailable now; retry later',
};

/** The OpenAPI 3.1 document of the app's routes. */
export function buildOpenApi(app: Hono, info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, path } of appRoutes(app)) {
    const doc = registry.get(key(method, path)) ?? { summary: '(not described)' };
    const openPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const params: unknown[] = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (doc.query) {
      for (const [name, schema] of Object.entries(doc.query.shape)) {
        const s = schema as z.ZodType;
        params.push({
          name, in: 'query', required: !s.safeParse(undefined).success,
          ...(s.description ? { description: s.description } : {}),
          schema: jsonSchema(s, 'input'),
        });
      }
    }
    const admin = (doc.auth ?? (path.startsWith('/api/') ? 'admin' : 'none')) === 'admin';
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(doc.responses ?? { 200: 'OK' })) {
      const res = typeof r === 'string' ? { description: r } : r;
      const schema = res.schema ?? (Number(status) >= 400 ? ErrorBody : undefined);
      responses[status] = {
        description: res.description,
        ...(schema ? { content: { [res.contentType ?? 'application/json']: { schema: jsonSchema(schema, 'output') } } } : {}),
      };
    }
    if (admin && !responses['401']) responses['401'] = { description: STATUS_TEXT[401], content: { 'application/json': { schema: jsonSchema(ErrorBody, 'output') } } };
    (paths[openPath] ??= {})[method.toLowerCase()] = {
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      ...(doc.tags ? { tags: doc.tags } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(doc.body ? { requestBody: { required: true, content: { [doc.bodyContentType ?? 'application/json']: { schema: jsonSchema(doc.body, 'input') } } } } : {}),
      responses,
      security: admin ? [{ bearer: [] }] : [],
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tlsrpt-hub',
      version: info.version,
      description: 'SMTP TLS Reporting (RFC 8460): collect outcomes, deliver reports, receive and analyse them. JSON fields of the service are camelCase; RFC 8460 report content keeps its kebab-case names.',
    },
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the admin token (http.token, or the one printed on first start)' } } },
  };
}

/** `GET /api/v1/openapi.json` for `app` (reads the app's routes on each request, so mount it anywhere). */
export function openApiRoutes(app: Hono, info: { version: string } = { version: '0.1.0' }): Hono {
  const routes = new Hono();
  routes.get('/api/v1/openapi.json', (c) => c.json(buildOpenApi(app, info)));
  describeRoute('GET', '/api/v1/openapi.json', { summary: 'This OpenAPI 3.1 document', tags: ['meta'] });
  return routes;
}

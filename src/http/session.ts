/**
 * @module http/session — browser sign-in for the web UI: `POST /api/v1/session {"token"}` trades
 * the admin token for an HttpOnly `tlsrpt_session` cookie, `GET` tells the UI whether it is
 * signed in (and its CSRF token), `DELETE` signs out. `/api/*` then accepts either the bearer
 * token or that cookie; a cookie request that changes state must also carry the session's CSRF
 * token in `X-CSRF-Token` (SameSite=Strict already stops cross-site sends; the header is the
 * second line for browsers or proxies that ignore it). Bearer requests need no CSRF token: a
 * browser never adds an Authorization header on its own.
 *
 * `serve` keeps sessions in the store (`createStoredSessionStore`): a sign-in survives a restart,
 * holds on every node of a cluster, and signing out ends it on all of them. Only a hash of each
 * cookie value is kept, so neither a database dump nor a heap dump hands out sessions.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AdminAuth } from './auth.js';
import type { Store } from '../store/index.js';
import { describeRoute } from './openapi.js';

export const SESSION_COOKIE = 'tlsrpt_session';
/** Readable by the page's script (not HttpOnly): the UI copies it into `X-CSRF-Token`. */
export const CSRF_COOKIE = 'tlsrpt_csrf';
export const CSRF_HEADER = 'x-csrf-token';

interface Session {
  csrf: string;
  expiresAt: number;
}

export interface SessionStore {
  /** Starts a session; returns the cookie value and its CSRF token. */
  create(): Promise<{ id: string; csrf: string; expiresAt: number }>;
  /** The live session of a cookie value, or undefined (unknown or expired). */
  get(id: string): Promise<Session | undefined>;
  delete(id: string): Promise<void>;
  readonly ttlSeconds: number;
}

export interface SessionStoreOptions {
  /** How long a sign-in lasts (default 12 h). */
  ttlSeconds?: number;
  /** At most this many live sessions; the oldest goes first (default 1000). */
  maxSessions?: number;
  now?: () => number;
}

const digest = (id: string) => createHash('sha256').update(id, 'utf8').digest('hex');

function newSession(ttlSeconds: number, now: number) {
  return { id: randomBytes(32).toString('base64url'), csrf: randomBytes(24).toString('base64url'), expiresAt: now + ttlSeconds };
}

/** In this process's memory (an app without a store: tests, embedding). @example const sessions = createSessionStore({ ttlSeconds: 3600 }); */
export function createSessionStore(opts: SessionStoreOptions = {}): SessionStore {
  const ttlSeconds = opts.ttlSeconds ?? 12 * 3600;
  const max = opts.maxSessions ?? 1000;
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const byHash = new Map<string, Session>();
  return {
    ttlSeconds,
    async create() {
      const s = newSession(ttlSeconds, now());
      // Map order is insertion order: the first key is the oldest session.
      while (byHash.size >= max) byHash.delete(byHash.keys().next().value!);
      byHash.set(digest(s.id), { csrf: s.csrf, expiresAt: s.expiresAt });
      return s;
    },
    async get(id) {
      const key = digest(id);
      const s = byHash.get(key);
      if (!s) return undefined;
      if (s.expiresAt <= now()) {
        byHash.delete(key);
        return undefined;
      }
      return s;
    },
    async delete(id) {
      byHash.delete(digest(id));
    },
  };
}

/**
 * In the store's `web_session` table, shared by every process on the database. Each sign-in
 * purges expired rows and, past `maxSessions`, the oldest ones.
 * @example const sessions = createStoredSessionStore(store);
 */
export function createStoredSessionStore(store: Store, opts: SessionStoreOptions = {}): SessionStore {
  const ttlSeconds = opts.ttlSeconds ?? 12 * 3600;
  const max = opts.maxSessions ?? 1000;
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  return {
    ttlSeconds,
    async create() {
      const t = now();
      const s = newSession(ttlSeconds, t);
      await store.db.deleteFrom('web_session').where('expires_at', '<=', t).execute();
      const oldest = await store.db.selectFrom('web_session').select('created_at').orderBy('created_at', 'desc').offset(max - 1).limit(1).executeTakeFirst();
      if (oldest) await store.db.deleteFrom('web_session').where('created_at', '<=', Number(oldest.created_at)).execute();
      await store.db.insertInto('web_session').values({ id_hash: digest(s.id), csrf: s.csrf, created_at: t, expires_at: s.expiresAt }).execute();
      return s;
    },
    async get(id) {
      const row = await store.db.selectFrom('web_session').select(['csrf', 'expires_at']).where('id_hash', '=', digest(id)).executeTakeFirst();
      if (!row || Number(row.expires_at) <= now()) return undefined;
      return { csrf: row.csrf, expiresAt: Number(row.expires_at) };
    },
    async delete(id) {
      await store.db.deleteFrom('web_session').where('id_hash', '=', digest(id)).execute();
    },
  };
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function unauthorized(c: Context, message: string) {
  c.header('WWW-Authenticate', 'Bearer realm="tlsrpt-hub"');
  return c.json({ error: { code: 'unauthorized', message } }, 401);
}

/**
 * `/api/*` guard: the bearer token, or a session cookie (+ CSRF token on writes). Sign-in itself
 * (`POST /api/v1/session`) passes through: it checks the token in its body.
 */
export function requireAdminOrSession(auth: AdminAuth | undefined, sessions: SessionStore): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.path === '/api/v1/session' && c.req.method === 'POST') return next();
    if (!auth) return unauthorized(c, 'the admin API is not enabled on this app (no token configured)');
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
      if (!m?.[1]) return unauthorized(c, 'malformed Authorization header: send "Authorization: Bearer <admin token>"');
      if (!auth.verify(m[1])) return unauthorized(c, 'wrong bearer token');
      return next();
    }
    const id = getCookie(c, SESSION_COOKIE);
    const session = id ? await sessions.get(id) : undefined;
    if (!session) {
      return unauthorized(c, id
        ? 'the session has expired or was signed out: sign in again'
        : 'missing bearer token: send "Authorization: Bearer <admin token>" (http.token, or the token printed on first start), or sign in at /');
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      const presented = c.req.header(CSRF_HEADER) ?? '';
      if (!sameText(presented, session.csrf)) {
        return c.json({ error: { code: 'csrf', message: `a ${c.req.method} with the session cookie needs the session's CSRF token in the ${CSRF_HEADER} header` } }, 403);
      }
    }
    return next();
  };
}

function cookie(name: string, value: string, opts: { httpOnly: boolean; secure: boolean; maxAge: number }): string {
  return [
    `${name}=${value}`,
    'Path=/',
    'SameSite=Strict',
    `Max-Age=${opts.maxAge}`,
    ...(opts.httpOnly ? ['HttpOnly'] : []),
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ');
}

/** POST/GET/DELETE /api/v1/session. */
export function sessionRoutes(deps: { auth: AdminAuth | undefined; sessions: SessionStore }): Hono {
  const app = new Hono();
  const { sessions } = deps;
  // `Secure` whenever this very request came over TLS (http.tls), so a plain-HTTP loopback
  // deployment still works and a TLS one never leaks the cookie to plain HTTP.
  const secure = (c: Context) => new URL(c.req.url).protocol === 'https:';

  describeRoute('POST', '/api/v1/session', { summary: 'Sign in to the web UI with the admin token: sets the HttpOnly tlsrpt_session cookie and the tlsrpt_csrf cookie', auth: 'none', tags: ['ui'], responses: { 204: { description: 'signed in' } } });
  app.post('/api/v1/session', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: { code: 'invalid-json', message: 'expected {"token": "<admin token>"}' } }, 400);
    }
    const token = (body as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || token === '') return c.json({ error: { code: 'bad-request', message: 'expected {"token": "<admin token>"}' } }, 400);
    if (!deps.auth || !deps.auth.verify(token)) return c.json({ error: { code: 'unauthorized', message: 'wrong admin token' } }, 401);
    const s = await sessions.create();
    const opts = { secure: secure(c), maxAge: sessions.ttlSeconds };
    c.header('Set-Cookie', cookie(SESSION_COOKIE, s.id, { ...opts, httpOnly: true }), { append: true });
    c.header('Set-Cookie', cookie(CSRF_COOKIE, s.csrf, { ...opts, httpOnly: false }), { append: true });
    c.header('Cache-Control', 'no-store');
    return c.body(null, 204);
  });

  // Reached only past the guard: a valid cookie or bearer token.
  describeRoute('GET', '/api/v1/session', { summary: 'Whether the session cookie is signed in', auth: 'none', tags: ['ui'] });
  app.get('/api/v1/session', async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    const s = id ? await sessions.get(id) : undefined;
    c.header('Cache-Control', 'no-store');
    return c.json(s ? { signedIn: true, via: 'cookie', csrf: s.csrf, expiresAt: new Date(s.expiresAt * 1000).toISOString() } : { signedIn: true, via: 'bearer' });
  });

  describeRoute('DELETE', '/api/v1/session', { summary: 'Sign out of the web UI', auth: 'none', tags: ['ui'], responses: { 204: { description: 'signed out' } } });
  app.delete('/api/v1/session', async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    if (id) await sessions.delete(id);
    const opts = { secure: secure(c), maxAge: 0 };
    c.header('Set-Cookie', cookie(SESSION_COOKIE, '', { ...opts, httpOnly: true }), { append: true });
    c.header('Set-Cookie', cookie(CSRF_COOKIE, '', { ...opts, httpOnly: false }), { append: true });
    return c.body(null, 204);
  });
  return app;
}

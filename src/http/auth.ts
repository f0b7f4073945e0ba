/**
 * @module http/auth — admin authentication for `/api/*`: a bearer token, either configured
 * (`http.token`) or generated on first start, printed once and kept only as its SHA-256 in the
 * store. Presented tokens are hashed and compared in constant time, so neither the comparison
 * nor a length difference tells an attacker how close a guess was.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { createAdminTokenIfNone, generateToken, hashToken, readAdminTokenHash } from '../settings/admin-token.js';

export { hashToken, rotateAdminToken } from '../settings/admin-token.js';

export interface AdminAuth {
  /** True when `presented` is the admin token. */
  verify(presented: string): boolean;
  /** Where the token comes from: the config file / environment, or the store (generated). */
  readonly source: 'config' | 'stored';
}

function verifierFor(hashHex: string, source: AdminAuth['source']): AdminAuth {
  const expected = Buffer.from(hashHex, 'hex');
  return {
    source,
    verify(presented) {
      const got = createHash('sha256').update(presented, 'utf8').digest();
      return got.length === expected.length && timingSafeEqual(got, expected);
    },
  };
}

/** Auth by a token known in clear (`http.token`, tests). */
export function tokenAuth(token: string): AdminAuth {
  return verifierFor(hashToken(token), 'config');
}

export interface SetupAdminAuthOptions {
  store: Store;
  /** `http.token` (or TLSRPT_HTTP_TOKEN); when set, nothing is generated or stored. */
  configuredToken?: string;
  log: Logger;
  /** Shows a newly generated token to the operator, once (default: a few lines on stderr). */
  announce?: (token: string) => void;
  now?: () => number;
}

function announceOnStderr(token: string): void {
  process.stderr.write(
    `\ntlsrpt: generated the admin API token (shown only this once; only its hash is stored):\n\n    ${token}\n\n` +
      `  Use it as "Authorization: Bearer <token>" for /api/*, or set http.token in tlsrpt.json instead.\n\n`,
  );
}

/**
 * The admin auth of the service: the configured token, else the stored hash, else a new token
 * (generated, stored hashed, announced once). Several nodes starting at once agree on one token:
 * the first insert wins and only its node announces it.
 */
export async function setupAdminAuth(opts: SetupAdminAuthOptions): Promise<AdminAuth> {
  if (opts.configuredToken) return tokenAuth(opts.configuredToken);
  const hash = await readAdminTokenHash(opts.store);
  if (hash) return verifierFor(hash, 'stored');
  const token = generateToken();
  if (await createAdminTokenIfNone(opts.store, token, Math.floor(opts.now?.() ?? Date.now() / 1000))) {
    (opts.announce ?? announceOnStderr)(token);
    opts.log.warn('generated an admin API token and printed it once on stderr; only its hash is stored');
    return verifierFor(hashToken(token), 'stored');
  }
  const winner = await readAdminTokenHash(opts.store);
  if (!winner) throw new Error('admin token row vanished while starting');
  return verifierFor(winner, 'stored');
}

/** Refuses a request without `Authorization: Bearer <admin token>` (401, JSON error). */
export function requireAdmin(auth: AdminAuth | undefined): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
    if (!auth || !m || !auth.verify(m[1])) {
      c.header('WWW-Authenticate', 'Bearer realm="tlsrpt-hub"');
      const message = !auth
        ? 'the admin API is not enabled on this app (no token configured)'
        : m
          ? 'wrong bearer token'
          : 'missing bearer token: send "Authorization: Bearer <admin token>" (http.token, or the token printed on first start)';
      return c.json({ error: { code: 'unauthorized', message } }, 401);
    }
    await next();
  };
}

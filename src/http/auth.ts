/**
 * @module http/auth — admin authentication for `/api/*`: a bearer token, either configured
 * (`http.token`) or generated on first start, shown once (on a terminal, else in a 0600 file
 * next to the database) and kept only as its SHA-256 in the store. Presented tokens are hashed and compared in constant time, so neither the comparison
 * nor a length difference tells an attacker how close a guess was.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../common/log.js';
import type { Store } from '../store/index.js';
import { createAdminTokenIfNone, generateToken, hashToken, readAdminTokenHash } from '../settings/admin-token.js';

export { hashToken, rotateAdminToken } from '../settings/admin-token.js';

export interface AdminAuth {
  /** True when `presented` is the admin token. */
  verify(presented: string): boolean;
  /** Where the token comes from: the config file / environment, or the store (generated). */
  readonly source: 'config' | 'stored';
}

/** Compares presented tokens with a SHA-256 in constant time; the hash can be swapped (rotation). */
class HashVerifier implements AdminAuth {
  private expected: Buffer;
  constructor(hashHex: string, readonly source: AdminAuth['source']) {
    this.expected = Buffer.from(hashHex, 'hex');
  }
  setHash(hashHex: string): void {
    this.expected = Buffer.from(hashHex, 'hex');
  }
  verify(presented: string): boolean {
    const got = createHash('sha256').update(presented, 'utf8').digest();
    return got.length === this.expected.length && timingSafeEqual(got, this.expected);
  }
}

/**
 * A stored token, re-read at most every `refreshMs` (in the background, on use), so
 * `tlsrpt settings rotate-token` takes effect on running nodes within seconds.
 */
function storedVerifier(store: Store, hashHex: string, refreshMs: number): AdminAuth {
  const inner = new HashVerifier(hashHex, 'stored');
  let checkedAt = Date.now();
  let refreshing = false;
  return {
    source: 'stored',
    verify(presented) {
      if (!refreshing && Date.now() - checkedAt > refreshMs) {
        refreshing = true;
        readAdminTokenHash(store)
          .then((h) => {
            if (h) inner.setHash(h);
          }, () => {})
          .finally(() => {
            checkedAt = Date.now();
            refreshing = false;
          });
      }
      return inner.verify(presented);
    },
  };
}

/** Auth by a token known in clear (`http.token`, tests). */
export function tokenAuth(token: string): AdminAuth {
  return new HashVerifier(hashToken(token), 'config');
}

export interface SetupAdminAuthOptions {
  store: Store;
  /** `http.token` (or TLSRPT_HTTP_TOKEN); when set, nothing is generated or stored. */
  configuredToken?: string;
  log: Logger;
  /** Shows a newly generated token to the operator, once (default: {@link announceToken}). */
  announce?: (token: string) => void;
  /** Where a generated token is written when stderr is not a terminal (next to the database). */
  tokenFile?: string;
  /** Whether stderr is a terminal (default: process.stderr.isTTY). */
  isTerminal?: boolean;
  now?: () => number;
  /** How often a stored token is re-read (default 10 s). */
  refreshMs?: number;
}

/**
 * Shows a generated token once: on the terminal when there is one; otherwise (systemd, a
 * container) stderr goes to a journal that many can read, so the token goes into a 0600 file
 * and only that file's path is logged.
 */
export function announceToken(token: string, opts: { isTerminal: boolean; tokenFile: string; log: Logger }): void {
  if (opts.isTerminal) {
    process.stderr.write(
      `\ntlsrpt: generated the admin API token (shown only this once; only its hash is stored):\n\n    ${token}\n\n` +
        `  Use it as "Authorization: Bearer <token>" for /api/*, or set http.token in tlsrpt.json instead.\n\n`,
    );
    opts.log.warn('generated an admin API token and printed it once on the terminal; only its hash is stored');
    return;
  }
  const dir = path.dirname(opts.tokenFile);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A fresh file (never an existing one or a link planted in its place), readable by us only.
  rmSync(opts.tokenFile, { force: true });
  writeFileSync(opts.tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
  opts.log.warn({ file: opts.tokenFile }, `generated an admin API token and wrote it to ${opts.tokenFile} (mode 0600; only its hash is stored): read it, then delete the file`);
}

/**
 * The admin auth of the service: the configured token, else the stored hash, else a new token
 * (generated, stored hashed, announced once). Several nodes starting at once agree on one token:
 * the first insert wins and only its node announces it.
 */
export async function setupAdminAuth(opts: SetupAdminAuthOptions): Promise<AdminAuth> {
  const prepared = await prepareAdminAuth(opts);
  await prepared.commit();
  return prepared.auth;
}

/** Swaps the verifier behind an AdminAuth once the token is settled. */
function swappable(initial: AdminAuth): AdminAuth & { set(next: AdminAuth): void } {
  let inner = initial;
  return {
    get source() { return inner.source; },
    verify: (presented) => inner.verify(presented),
    set(next) { inner = next; },
  };
}

/**
 * Like setupAdminAuth, but a newly generated token is stored and printed only by `commit()`,
 * which the service calls once start-up has succeeded: a start that fails (port in use) must
 * not print a token and then lose it. Until then the new token is only in memory (nothing can
 * ask: the server does not listen yet).
 */
export async function prepareAdminAuth(opts: SetupAdminAuthOptions): Promise<{ auth: AdminAuth; commit(): Promise<void> }> {
  const done = async () => {};
  if (opts.configuredToken) return { auth: tokenAuth(opts.configuredToken), commit: done };
  const refreshMs = opts.refreshMs ?? 10_000;
  const hash = await readAdminTokenHash(opts.store);
  if (hash) return { auth: storedVerifier(opts.store, hash, refreshMs), commit: done };
  const token = generateToken();
  const auth = swappable(new HashVerifier(hashToken(token), 'stored'));
  let committed = false;
  return {
    auth,
    async commit() {
      if (committed) return;
      committed = true;
      if (await createAdminTokenIfNone(opts.store, token, Math.floor(opts.now?.() ?? Date.now() / 1000))) {
        if (opts.announce) opts.announce(token);
        else announceToken(token, { isTerminal: opts.isTerminal ?? Boolean(process.stderr.isTTY), tokenFile: opts.tokenFile ?? path.resolve('data', 'admin-token'), log: opts.log });
        auth.set(storedVerifier(opts.store, hashToken(token), refreshMs));
        return;
      }
      const winner = await readAdminTokenHash(opts.store);
      if (!winner) throw new Error('admin token row vanished while starting');
      auth.set(storedVerifier(opts.store, winner, refreshMs));
    },
  };
}

/** Refuses a request without `Authorization: Bearer <admin token>` (401, JSON error). */
export function requireAdmin(auth: AdminAuth | undefined): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
    if (!auth || m?.[1] === undefined || !auth.verify(m[1])) {
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

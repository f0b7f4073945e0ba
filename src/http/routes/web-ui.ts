/**
 * @module http/routes/web-ui — serves the built browser UI (`dist/web/`, made by `npm run
 * build:web`) on the API's port: the page paths answer `index.html` (the UI routes in the
 * browser), `/assets/*` the hashed bundles. Every answer carries a Content-Security-Policy that
 * allows scripts and styles from this origin only — no inline script, no eval — because the UI
 * shows reports written by strangers: a payload that slipped into the DOM still could not run.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { describeRoute } from '../openapi.js';

/** The pages of the UI (DESIGN.md); anything else outside /api and /assets is not ours. */
export const UI_PAGES = ['/', '/domains/:domain', '/reports', '/reports/:id', '/outbound', '/settings/tls', '/system'] as const;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** `dist/web` of this package, found from this file whether it runs from `src/` (tsx) or `dist/`. */
export function defaultWebRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      if (statSync(path.join(dir, 'package.json')).isFile()) return path.join(dir, 'dist', 'web');
    } catch {
      /* keep walking up */
    }
    dir = path.dirname(dir);
  }
  return path.resolve('dist', 'web');
}

const MISSING_BUILD = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tlsrpt-hub</title></head>
<body><h1>tlsrpt-hub</h1><p>The web UI is not built in this installation. Run <code>npm run build:web</code>
(part of the install/build step) and reload. The API under <code>/api/v1</code> works without it.</p></body></html>`;

export interface WebUiOptions {
  /** Folder holding `index.html` and `assets/` (default: the package's `dist/web`). */
  root?: string;
}

/** @example app.route('/', webUiRoutes()); */
export function webUiRoutes(opts: WebUiOptions = {}): Hono {
  const app = new Hono();
  const root = path.resolve(opts.root ?? defaultWebRoot());
  const assets = path.join(root, 'assets');
  // Re-read when the file changes (a `build:web` while serving names new hashed assets).
  let cached: { mtimeMs: number; html: string } | undefined;
  const page = (c: Context) => {
    const file = path.join(root, 'index.html');
    try {
      const { mtimeMs } = statSync(file);
      if (!cached || cached.mtimeMs !== mtimeMs) cached = { mtimeMs, html: readFileSync(file, 'utf8') };
    } catch {
      return c.html(MISSING_BUILD, 200, { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' });
    }
    return c.html(cached.html, 200, { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
  };
  for (const p of UI_PAGES) describeRoute('GET', p, { summary: `The web UI page ${p} (HTML; the page signs in with POST /api/v1/session)`, auth: 'none', tags: ['ui'] });
  for (const p of UI_PAGES) app.get(p, page);

  describeRoute('GET', '/assets/:file', { summary: 'The web UI build assets (scripts, styles), immutable', auth: 'none', tags: ['ui'] });
  app.get('/assets/:file', async (c) => {
    const name = c.req.param('file');
    // One flat folder of hashed names: anything with a separator or a leading dot is refused.
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) return c.json({ error: { code: 'not-found', message: 'no such asset' } }, 404);
    const type = TYPES[path.extname(name)];
    let body: Buffer;
    try {
      if (!type) throw new Error('type');
      body = await readFile(path.join(assets, name));
    } catch {
      return c.json({ error: { code: 'not-found', message: `no asset ${name}` } }, 404);
    }
    return c.body(new Uint8Array(body), 200, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      // Vite puts a content hash in every asset name: a changed file is a new name.
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  });
  return app;
}

/**
 * @module test/web/session-and-assets — the web UI's HTTP side without a browser: sign-in and
 * sign-out, cookie-or-bearer auth with the CSRF token on cookie writes, session expiry, the CSP
 * and security headers on every page path, asset serving (types, caching, refusals), the page
 * shown when the UI is not built, and the settings preview endpoint.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/http/app.js';
import { tokenAuth } from '../../src/http/auth.js';
import { createSessionStore } from '../../src/http/session.js';
import { UI_PAGES } from '../../src/http/routes/web-ui.js';
import { uiRoutes } from '../../src/http/routes/ui.js';
import { settingsRoutes } from '../../src/http/routes/settings.js';
import { openSettings } from '../../src/settings/index.js';
import { ServiceConfig } from '../../src/settings/config.js';
import { openStore, type Store } from '../../src/store/index.js';
import { silentLog } from '../../src/common/log.js';

const TOKEN = 'web-admin-token-0123456789';
let dir: string;
let webRoot: string;
let store: Store;
let settings: Awaited<ReturnType<typeof openSettings>>;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-web-'));
  webRoot = path.join(dir, 'web');
  mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
  writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><html lang="en"><head><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="app"></div></body></html>');
  writeFileSync(path.join(webRoot, 'assets', 'app-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(webRoot, 'assets', 'app-abc123.css'), 'body{}');
  writeFileSync(path.join(dir, 'secret.txt'), 'not an asset');
  store = await openStore({ sqlite: path.join(dir, 'db.sqlite') });
  const config = ServiceConfig.parse({ http: { token: TOKEN }, SystemSettings: { domain: 'example.net', hostname: 'mx.example.net' } });
  settings = await openSettings(store, config, silentLog, { pollMs: 60_000, hostname: 'node.example.net' });
});
after(async () => {
  settings.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function app(opts: { now?: () => number } = {}) {
  const a = createApp({ auth: tokenAuth(TOKEN), webUi: { root: webRoot }, sessions: createSessionStore({ ttlSeconds: 60, now: opts.now }) });
  a.route('/', settingsRoutes({ settings }));
  a.route('/', uiRoutes({ store, settings, now: () => 20_500 * 86400 }));
  return a;
}

/** Signs in; returns the Cookie header value and the CSRF token. */
async function signIn(a: ReturnType<typeof app>, base = 'http://localhost') {
  const res = await a.request(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
  assert.equal(res.status, 204);
  const cookies = res.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith('tlsrpt_session='))!;
  const csrf = cookies.find((c) => c.startsWith('tlsrpt_csrf='))!;
  return { session, csrf, cookie: `${session.split(';')[0]}; ${csrf.split(';')[0]}`, token: csrf.split(';')[0].split('=')[1] };
}

describe('sessions', () => {
  it('sign-in sets an HttpOnly SameSite=Strict session cookie and a readable CSRF cookie; a wrong token gets 401 and no cookie', async () => {
    const a = app();
    const bad = await a.request('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'wrong-token-0123456789' }) });
    assert.equal(bad.status, 401);
    assert.deepEqual(bad.headers.getSetCookie(), []);
    assert.equal((await a.request('/api/v1/session', { method: 'POST', body: 'nope' })).status, 400);
    const s = await signIn(a);
    assert.match(s.session, /^tlsrpt_session=[A-Za-z0-9_-]{43}; Path=\/; SameSite=Strict; Max-Age=60; HttpOnly$/);
    assert.match(s.csrf, /^tlsrpt_csrf=[A-Za-z0-9_-]{32}; Path=\/; SameSite=Strict; Max-Age=60$/);
    // Over TLS the cookies are Secure.
    const tls = await signIn(a, 'https://localhost');
    assert.match(tls.session, /; HttpOnly; Secure$/);
    assert.match(tls.csrf, /; Secure$/);
  });

  it('the cookie opens /api reads; writes need the CSRF token; bearer writes need none; sign-out ends the session', async () => {
    const a = app();
    assert.equal((await a.request('/api/v1/settings')).status, 401);
    const s = await signIn(a);
    const me = await a.request('/api/v1/session', { headers: { cookie: s.cookie } });
    assert.deepEqual(await me.json().then((j: any) => [j.signedIn, j.via, j.csrf]), [true, 'cookie', s.token]);
    assert.equal((await a.request('/api/v1/settings', { headers: { cookie: s.cookie } })).status, 200);
    const body = JSON.stringify({ fromName: { else: "'Web UI'" } });
    const noCsrf = await a.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: { cookie: s.cookie, 'content-type': 'application/json' }, body });
    assert.equal(noCsrf.status, 403);
    assert.equal((await noCsrf.json() as any).error.code, 'csrf');
    const wrong = await a.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: { cookie: s.cookie, 'x-csrf-token': `${s.token.slice(1)}x`, 'content-type': 'application/json' }, body });
    assert.equal(wrong.status, 403);
    const ok = await a.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: { cookie: s.cookie, 'x-csrf-token': s.token, 'content-type': 'application/json' }, body });
    assert.equal(ok.status, 200);
    assert.equal(settings.tlsReport({ rcptDomain: 'example.org' }).fromName, 'Web UI', 'saved and in force without a restart');
    const bearer = await a.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(bearer.status, 200);
    // A wrong bearer token is refused even with a good cookie beside it.
    assert.equal((await a.request('/api/v1/settings', { headers: { cookie: s.cookie, authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
    // Sign-out needs the CSRF token too, then the cookie is dead.
    assert.equal((await a.request('/api/v1/session', { method: 'DELETE', headers: { cookie: s.cookie } })).status, 403);
    const out = await a.request('/api/v1/session', { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': s.token } });
    assert.equal(out.status, 204);
    assert.ok(out.headers.getSetCookie().some((c) => /^tlsrpt_session=; .*Max-Age=0/.test(c)));
    assert.equal((await a.request('/api/v1/settings', { headers: { cookie: s.cookie } })).status, 401);
  });

  it('a session expires after its lifetime', async () => {
    let t = 1_000_000;
    const a = app({ now: () => t });
    const s = await signIn(a);
    t += 59;
    assert.equal((await a.request('/api/v1/settings', { headers: { cookie: s.cookie } })).status, 200);
    t += 1;
    const res = await a.request('/api/v1/settings', { headers: { cookie: s.cookie } });
    assert.equal(res.status, 401);
    assert.match((await res.json() as any).error.message, /expired or was signed out/);
  });
});

describe('pages and assets', () => {
  it('every page path answers the UI with a CSP that allows no inline script and no eval', async () => {
    const a = app();
    for (const p of UI_PAGES) {
      const url = p.replace(':domain', 'example.com').replace(':id', '42');
      const res = await a.request(url);
      assert.equal(res.status, 200, url);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      const csp = res.headers.get('content-security-policy')!;
      const scriptSrc = /script-src([^;]*)/.exec(csp)![1];
      assert.equal(scriptSrc.trim(), "'self'");
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /object-src 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(await res.text(), /\/assets\/app-abc123\.js/);
    }
    assert.equal((await a.request('/nowhere')).status, 404);
    assert.equal((await a.request('/reports/1/extra')).status, 404);
  });

  it('assets: right type, immutable caching; no traversal, no unknown types', async () => {
    const a = app();
    const js = await a.request('/assets/app-abc123.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(js.headers.get('cache-control')!, /immutable/);
    assert.equal(await js.text(), 'console.log(1)');
    assert.equal((await a.request('/assets/app-abc123.css')).headers.get('content-type'), 'text/css; charset=utf-8');
    for (const bad of ['/assets/..%2Fsecret.txt', '/assets/%2e%2e%2f..%2fsecret.txt', '/assets/.hidden.js', '/assets/missing.js']) {
      const res = await a.request(bad);
      assert.equal(res.status, 404, bad);
      assert.doesNotMatch(await res.text(), /not an asset/);
    }
  });

  it('without a build the pages say how to make one (still HTML with the CSP)', async () => {
    const a = createApp({ auth: tokenAuth(TOKEN), webUi: { root: path.join(dir, 'nothing-here') } });
    const res = await a.request('/');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /npm run build:web/);
    assert.ok(res.headers.get('content-security-policy'));
  });
});

describe('settings preview', () => {
  it('evaluates unsaved values for a recipient domain, field by field, and reports errors with their position', async () => {
    const a = app();
    const post = (body: unknown) => a.request('/api/v1/settings/preview', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const good = await (await post({
      rcptDomain: 'Gov.Example.',
      TlsReportSettings: { fromName: { else: "'TLS for ' + rcpt_domain" }, sendFrequency: { match: [{ if: "ends_with(rcpt_domain, '.example')", then: 'hourly' }], else: 'daily' } },
      ReportSettings: { outboundReportSubmitter: { else: "'relay.' + system('domain')" } },
    })).json() as any;
    assert.equal(good.rcptDomain, 'gov.example');
    assert.deepEqual(good.errors, []);
    assert.deepEqual(good.fields.fromName, { value: 'TLS for gov.example', default: false });
    assert.deepEqual(good.fields.sendFrequency, { value: 'hourly', default: false });
    assert.deepEqual(good.fields.outboundReportSubmitter, { value: 'relay.example.net', default: false });
    assert.deepEqual(good.fields.subject, { value: 'TLS Aggregate Report', default: true });
    assert.deepEqual(good.fields.fromAddress, { value: 'noreply-tls@example.net', default: true });
    assert.deepEqual(good.fields.contactInfo, { value: false, default: true });

    const bad = await (await post({ rcptDomain: 'x.org', TlsReportSettings: { fromName: { else: "'TLS' + + " }, maxReportSize: { else: "'lots'" } } })).json() as any;
    const fromName = bad.errors.find((e: any) => e.field === 'TlsReportSettings.fromName.else');
    assert.ok(fromName, JSON.stringify(bad.errors));
    assert.equal(typeof fromName.position, 'number');
    assert.ok(fromName.position >= 6 && fromName.position <= 10, `position ${fromName.position}`);
    assert.ok(bad.errors.some((e: any) => e.field === 'TlsReportSettings.maxReportSize.else' && /size in bytes/.test(e.message)));
    assert.equal(bad.fields.fromName.position, fromName.position);
    assert.match(bad.fields.maxReportSize.error, /size in bytes/);
  });

  it('the settings form lists the nine fields with defaults and where each value comes from', async () => {
    const a = app();
    const form = await (await a.request('/api/v1/ui/settings', { headers: { authorization: `Bearer ${TOKEN}` } })).json() as any;
    assert.deepEqual(form.fields.map((f: any) => f.field), ['fromName', 'fromAddress', 'subject', 'orgName', 'contactInfo', 'sendFrequency', 'maxReportSize', 'dkimSignDomain', 'outboundReportSubmitter']);
    const fromName = form.fields[0];
    assert.deepEqual(fromName.default, { else: "'Report Subsystem'" });
    assert.equal(fromName.locked, false);
    assert.ok(!fromName.variables.includes('queue_name'), 'Stalwart queue variables that are always empty are not offered');
    assert.deepEqual(form.system, { domain: 'example.net', hostname: 'mx.example.net' });
  });
});

/** @module test/http/settings-api — the admin API: bearer auth, GET/PUT settings with validation, a second node seeing a change, the generated token. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore, reopen } from '../support/stores.js';
import { silentLog } from '../../src/common/log.js';
import { createApp } from '../../src/http/app.js';
import { hashToken, rotateAdminToken, setupAdminAuth, tokenAuth } from '../../src/http/auth.js';
import { settingsRoutes } from '../../src/http/routes/settings.js';
import { openSettings } from '../../src/settings/index.js';
import { ServiceConfig } from '../../src/settings/config.js';
import type { Store } from '../../src/store/index.js';

const TOKEN = 'test-admin-token-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'Content-Type': 'application/json' };

const STALWART_EXAMPLE = {
  fromName: { else: "'TLS Report'" },
  fromAddress: { else: "'noreply-tls@example.org'" },
  subject: { else: "'TLS Aggregate Report'" },
  orgName: { else: "'The Foobar Organization'" },
  contactInfo: { else: "'jane@example.org'" },
  sendFrequency: { else: 'daily' },
  maxReportSize: { else: '26214400' },
  dkimSignDomain: { else: "'example.org'" },
};

async function node(store: Store, fileSettings: Record<string, unknown> = {}, pollMs = 100) {
  const config = ServiceConfig.parse({ http: { token: TOKEN }, SystemSettings: { domain: 'example.net', hostname: 'mx.example.net' }, ...fileSettings });
  const settings = await openSettings(store, config, silentLog, { pollMs, hostname: 'node.example.net' });
  const app = createApp({ auth: tokenAuth(TOKEN) });
  app.route('/', settingsRoutes({ settings }));
  return { app, settings };
}

const storedRow = async (store: Store, name: string) =>
  (await store.db.selectFrom('settings').selectAll().where('name', '=', name).executeTakeFirst()) ?? null;

forEachStore('settings API', (open) => {
  it('refuses /api requests without the right token (401) but serves /healthz', async () => {
    const store = await open();
    const { app, settings } = await node(store);
    try {
      const none = await app.request('/api/v1/settings/TlsReportSettings');
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="tlsrpt-hub"');
      assert.equal((await none.json()).error.code, 'unauthorized');
      const wrong = await app.request('/api/v1/settings/TlsReportSettings', { headers: { Authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      const put = await app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', body: JSON.stringify(STALWART_EXAMPLE) });
      assert.equal(put.status, 401);
      assert.equal(await storedRow(store, 'TlsReportSettings'), null);
      assert.equal((await app.request('/healthz')).status, 200);
      assert.equal((await app.request('/api/v1/settings/TlsReportSettings', { headers: auth })).status, 200);
      // Every /api path is covered, including ones that do not exist.
      assert.equal((await app.request('/api/v1/nothing-here')).status, 401);
      assert.equal((await app.request('/api/v1/nothing-here', { headers: auth })).status, 404);
    } finally {
      settings.close();
    }
  });

  it('accepts Stalwart\'s example unchanged, returns it, and applies it without a restart', async () => {
    const store = await open();
    const { app, settings } = await node(store);
    try {
      assert.equal(settings.tlsReport({ rcptDomain: 'example.com' }).orgName, 'example.net');
      const put = await app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body: JSON.stringify(STALWART_EXAMPLE) });
      assert.equal(put.status, 200, await put.clone().text());
      const body = await put.json();
      assert.deepEqual(body.value, STALWART_EXAMPLE);
      assert.equal(body.origin, 'stored');
      assert.equal(body.fields.orgName.source, 'stored');
      assert.equal(settings.tlsReport({ rcptDomain: 'example.com' }).orgName, 'The Foobar Organization');
      const get = await (await app.request('/api/v1/settings/TlsReportSettings', { headers: auth })).json();
      assert.deepEqual(get.value, STALWART_EXAMPLE);
      const row = await storedRow(store, 'TlsReportSettings');
      assert.deepEqual(JSON.parse(row!.value), STALWART_EXAMPLE);
      const all = await (await app.request('/api/v1/settings', { headers: auth })).json();
      assert.deepEqual(Object.keys(all.settings), ['TlsReportSettings', 'ReportSettings', 'SystemSettings']);
      assert.equal(all.settings.ReportSettings.fields.outboundReportSubmitter.source, 'default');
    } finally {
      settings.close();
    }
  });

  it('refuses invalid settings with field, position and message, and stores nothing', async () => {
    const store = await open();
    const { app, settings } = await node(store);
    try {
      const good = { sendFrequency: { else: 'weekly' } };
      assert.equal((await app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body: JSON.stringify(good) })).status, 200);
      const before = await storedRow(store, 'TlsReportSettings');
      const bad = { sendFrequency: { else: 'weekly' }, subject: { match: [{ if: "(rcpt_domain == 'a'", then: "'x'" }], else: "'y'" } };
      const r = await app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body: JSON.stringify(bad) });
      assert.equal(r.status, 400);
      const err = (await r.json()).error;
      assert.equal(err.code, 'invalid-settings');
      assert.equal(err.field, 'TlsReportSettings.subject.match[0].if');
      assert.equal(err.position, 19);
      assert.match(err.message, /expected '\)' at position 19/);
      assert.deepEqual(await storedRow(store, 'TlsReportSettings'), before);
      for (const body of [
        JSON.stringify({ sendFrequency: { else: 'monthly' } }),
        JSON.stringify({ subject: { match: [{ if: '1', then: "'x'" }] } }),
        JSON.stringify({ noSuchField: { else: "'x'" } }),
        JSON.stringify(['not', 'an', 'object']),
        '{"broken json',
      ]) {
        const res = await app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body });
        assert.equal(res.status, 400, body);
        assert.ok((await res.json()).error.message, body);
      }
      const sub = await app.request('/api/v1/settings/ReportSettings', { method: 'PUT', headers: json, body: JSON.stringify({ outboundReportSubmitter: { else: 'system(' } }) });
      assert.deepEqual((await sub.json()).error.errors, [{ field: 'ReportSettings.outboundReportSubmitter.else', position: 7, message: 'expected a value at position 7, found end of expression' }]);
      assert.equal(await storedRow(store, 'ReportSettings'), null);
      assert.deepEqual(await storedRow(store, 'TlsReportSettings'), before);
      assert.equal(settings.sendFrequency('x.org'), 'weekly');
      assert.equal((await app.request('/api/v1/settings/Nope', { headers: auth })).status, 404);
      const huge = JSON.stringify({ subject: { else: `'${'x'.repeat(1100000)}'` } });
      assert.equal((await app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body: huge })).status, 413);
    } finally {
      settings.close();
    }
  });

  it('a field the file sets is in force and locked; the others are edited through the API and stored', async () => {
    const store = await open();
    const first = await node(store, { TlsReportSettings: { sendFrequency: { else: 'hourly' } } });
    try {
      // Nothing is copied into the store: the file is read on every start.
      assert.equal(await storedRow(store, 'TlsReportSettings'), null);
      assert.equal(first.settings.sendFrequency('x'), 'hourly');
      const got = await (await first.app.request('/api/v1/settings/TlsReportSettings', { headers: auth })).json();
      assert.deepEqual(got.fields.sendFrequency, { value: { else: 'hourly' }, source: 'file', locked: true });
      assert.deepEqual(got.fields.subject, { value: { else: "'TLS Aggregate Report'" }, source: 'default', locked: false });
      // Changing a locked field: 409, nothing stored.
      const refused = await first.app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body: JSON.stringify({ sendFrequency: { else: 'weekly' } }) });
      assert.equal(refused.status, 409);
      const err = (await refused.json()).error;
      assert.equal(err.code, 'locked-by-file');
      assert.deepEqual(err.fields, ['TlsReportSettings.sendFrequency']);
      assert.match(err.message, /set in the config file/);
      assert.equal(await storedRow(store, 'TlsReportSettings'), null);
      // A form that sends back the locked value unchanged, plus an edit of a free field: stored without the locked one.
      const ok = await first.app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body: JSON.stringify({ sendFrequency: { else: 'hourly' }, subject: { else: "'Ours'" } }) });
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse((await storedRow(store, 'TlsReportSettings'))!.value), { subject: { else: "'Ours'" } });
      const after = await ok.json();
      assert.deepEqual(after.fields.subject, { value: { else: "'Ours'" }, source: 'stored', locked: false });
      assert.equal(after.fields.sendFrequency.source, 'file');
    } finally {
      first.settings.close();
    }
    // Editing the file after the first start takes effect (no stored copy overrides it), the stored field stays.
    const second = await node(store, { TlsReportSettings: { sendFrequency: { else: 'weekly' } } });
    try {
      assert.equal(second.settings.sendFrequency('x'), 'weekly');
      assert.equal(second.settings.tlsReport({ rcptDomain: 'x.org' }).subject, 'Ours');
      assert.equal(second.settings.effective().TlsReportSettings.fields.sendFrequency.source, 'file');
    } finally {
      second.settings.close();
    }
    // Without the field in the file it is free again.
    const third = await node(store);
    try {
      assert.equal(third.settings.sendFrequency('x'), 'daily');
      const put = await third.app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body: JSON.stringify({ sendFrequency: { else: 'weekly' } }) });
      assert.equal(put.status, 200);
      assert.equal(third.settings.sendFrequency('x'), 'weekly');
    } finally {
      third.settings.close();
    }
  });

  it('refuses to start on broken settings in the file', async () => {
    const store = await open();
    await assert.rejects(node(store, { TlsReportSettings: { sendFrequency: { else: 'monthly' } } }), /TlsReportSettings\.sendFrequency\.else: monthly is not a value of sendFrequency/);
    assert.equal(await storedRow(store, 'TlsReportSettings'), null);
  });

  it('a second node on the same database sees a change', async () => {
    const store = await open();
    const other = await reopen(store);
    const a = await node(store);
    const b = await node(other, {}, 100);
    try {
      assert.equal(b.settings.sendFrequency('agency.gov'), 'daily');
      // Listen before the change: b's poll may pick it up before the PUT below returns.
      let changed = false;
      b.settings.onChange(() => { changed = true; });
      const value = { sendFrequency: { match: [{ if: "ends_with(rcpt_domain, '.gov')", then: 'hourly' }], else: 'daily' } };
      const r = await a.app.request('/api/v1/settings/TlsReportSettings', { method: 'PUT', headers: json, body: JSON.stringify(value) });
      assert.equal(r.status, 200);
      assert.equal(a.settings.sendFrequency('agency.gov'), 'hourly');
      const deadline = Date.now() + 5000;
      while (b.settings.sendFrequency('agency.gov') !== 'hourly' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      assert.equal(b.settings.sendFrequency('agency.gov'), 'hourly');
      assert.equal(b.settings.sendFrequency('example.com'), 'daily');
      assert.ok(changed);
      const viaB = await (await b.app.request('/api/v1/settings/TlsReportSettings', { headers: auth })).json();
      assert.deepEqual(viaB.value, value);
    } finally {
      a.settings.close();
      b.settings.close();
      await other.close();
    }
  });

  it('generates a token on first start, stores only its hash and announces it once', async () => {
    const store = await open();
    const announced: string[] = [];
    const first = await setupAdminAuth({ store, log: silentLog, announce: (t) => announced.push(t) });
    assert.equal(announced.length, 1);
    const token = announced[0];
    assert.ok(token.length >= 40);
    const row = await store.db.selectFrom('admin_token').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.token_hash, hashToken(token));
    assert.ok(!row.token_hash.includes(token));
    const second = await setupAdminAuth({ store, log: silentLog, announce: (t) => announced.push(t) });
    assert.equal(announced.length, 1);
    for (const a of [first, second]) {
      assert.equal(a.verify(token), true);
      assert.equal(a.verify(token + 'x'), false);
      assert.equal(a.verify(''), false);
    }
    const app = createApp({ auth: second });
    app.get('/api/v1/ping', (c) => c.json({ pong: true }));
    assert.equal((await app.request('/api/v1/ping', { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await app.request('/api/v1/ping', { headers: { Authorization: `bearer ${token}` } })).status, 200);
    assert.equal((await app.request('/api/v1/ping', { headers: { Authorization: `Basic ${token}` } })).status, 401);
    // A configured token takes precedence and nothing is generated.
    const configured = await setupAdminAuth({ store, configuredToken: TOKEN, log: silentLog, announce: (t) => announced.push(t) });
    assert.equal(configured.verify(TOKEN), true);
    assert.equal(configured.verify(token), false);
    assert.equal(announced.length, 1);
  });

  it('a rotated token replaces the old one on a running node within the refresh time', async () => {
    const store = await open();
    const announced: string[] = [];
    const running = await setupAdminAuth({ store, log: silentLog, announce: (t) => announced.push(t), refreshMs: 50 });
    const old = announced[0];
    assert.equal(running.verify(old), true);
    const fresh = await rotateAdminToken(store);
    const deadline = Date.now() + 3000;
    while (!running.verify(fresh) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(running.verify(fresh), true);
    assert.equal(running.verify(old), false);
  });
});

it('an app without auth refuses every /api request', async () => {
  const app = createApp();
  app.get('/api/v1/ping', (c) => c.json({ pong: true }));
  assert.equal((await app.request('/api/v1/ping', { headers: auth })).status, 401);
  assert.equal((await app.request('/healthz')).status, 200);
});

it('answers unknown routes and oversized bodies with JSON errors', async () => {
  const app = createApp({ auth: tokenAuth(TOKEN), maxBodyBytes: 1000 });
  app.post('/api/v1/echo', async (c) => c.json({ n: (await c.req.text()).length }));
  app.get('/api/v1/boom', () => {
    throw new Error('secret detail');
  });
  const nf = await app.request('/nowhere');
  assert.equal(nf.status, 404);
  assert.equal((await nf.json()).error.code, 'not-found');
  const big = await app.request('/api/v1/echo', { method: 'POST', headers: auth, body: 'x'.repeat(2000) });
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error.code, 'too-large');
  assert.equal((await (await app.request('/api/v1/echo', { method: 'POST', headers: auth, body: 'x'.repeat(10) })).json()).n, 10);
  const boom = await app.request('/api/v1/boom', { headers: auth });
  assert.equal(boom.status, 500);
  assert.deepEqual(await boom.json(), { error: { code: 'internal', message: 'internal error' } });
});

/** @module test/http/service-settings — the running service over real HTTP: /healthz open, /api token-protected, settings changed through the API take effect. */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLog } from '../../src/common/log.js';
import { ServiceConfig } from '../../src/settings/config.js';
import { startService } from '../../src/service.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-service-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('serves /healthz, guards /api/* and applies a PUT of the settings', async () => {
  const token = 'service-test-token-0123456789';
  const config = ServiceConfig.parse({
    store: { sqlite: path.join(dir, 't.db') },
    http: { listen: '127.0.0.1:0', token },
    TlsReportSettings: { sendFrequency: { else: 'weekly' } },
  });
  const svc = await startService(config, silentLog);
  try {
    const base = `http://127.0.0.1:${svc.http.port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/api/v1/settings/TlsReportSettings`)).status, 401);
    const auth = { Authorization: `Bearer ${token}` };
    const got = await (await fetch(`${base}/api/v1/settings/TlsReportSettings`, { headers: auth })).json();
    assert.deepEqual(got.fields.sendFrequency, { value: { else: 'weekly' }, source: 'file', locked: true });
    const bad = await fetch(`${base}/api/v1/settings/TlsReportSettings`, { method: 'PUT', headers: auth, body: '{"subject": {"else": "(\'x\' + 1"}}' });
    assert.equal(bad.status, 400);
    const err = (await bad.json()).error;
    assert.equal(err.field, 'TlsReportSettings.subject.else');
    assert.equal(err.position, 8);
    const locked = await fetch(`${base}/api/v1/settings/TlsReportSettings`, { method: 'PUT', headers: auth, body: '{"sendFrequency": {"else": "hourly"}}' });
    assert.equal(locked.status, 409);
    const put = await fetch(`${base}/api/v1/settings/TlsReportSettings`, { method: 'PUT', headers: auth, body: '{"subject": {"else": "\'Ours\'"}}' });
    assert.equal(put.status, 200);
    assert.deepEqual((await put.json()).fields.subject, { value: { else: "'Ours'" }, source: 'stored', locked: false });
  } finally {
    await svc.stop();
  }
});

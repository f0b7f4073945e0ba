/**
 * The receiving side as `tlsrpt serve` runs it (startService from a config): the public
 * endpoint over HTTPS terminated by the service itself (test CA, no token needed), the SMTP
 * listener from `smtp.listen`, `receiving.policyDomains` applied, and the outcomes counted in
 * /metrics. Both stores.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';
import { testCa } from '../support/https-server.js';
import { forEachStore } from '../support/stores.js';
import { startService } from '../../src/service.js';
import { loadConfig } from '../../src/settings/config.js';
import { silentLog } from '../../src/common/log.js';
import { post } from './support/http-client.js';
import { rawSmtp } from './support/smtp-client.js';
import { readFixture } from './support/reports.js';

const TOKEN = 'service-test-token-0123456789';
let dns: DnsTestServer;
let dir: string;
before(async () => {
  dns = await startDnsServer({});
  dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-service-'));
  const ca = testCa();
  writeFileSync(path.join(dir, 'cert.pem'), ca.certPem);
  writeFileSync(path.join(dir, 'key.pem'), ca.keyPem);
});
after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
});

forEachStore('serve: receiving', (open) => {
  it('takes reports over HTTPS (service-terminated TLS) and SMTP, applies receiving.policyDomains, counts outcomes', async () => {
    const store = await open();
    const storeConfig = store.config;
    await store.close();
    const smtpPort = await freePort();
    const file = path.join(dir, `cfg-${store.kind}.json`);
    writeFileSync(file, JSON.stringify({
      store: storeConfig,
      http: { listen: '127.0.0.1:0', token: TOKEN, tls: { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') } },
      smtp: { listen: `127.0.0.1:${smtpPort}` },
      dns: { servers: dns.servers },
      receiving: { policyDomains: ['company-y.example', 'example.com', 'mail.ru'] },
      SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
    }));
    const svc = await startService(loadConfig(file, {}), silentLog);
    try {
      const url = `https://localhost:${svc.http.port}/tlsrpt`;
      const ca = testCa().caPem;
      const ok = await post(url, gzipSync(readFixture('parsedmarc__rfc8460.json')), { ca });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const other = await post(url, gzipSync(readFixture('dmarc-report-viewer__google.json')), { ca });
      assert.equal(other.status, 400);
      assert.equal(other.body.error.code, 'unauthorized');
      assert.match(other.body.error.message, /receiving\.policyDomains/);

      const c = await rawSmtp(smtpPort);
      try {
        assert.match(c.greeting.text, /^220 mx\.example\.com /);
        await c.cmd('EHLO client.example');
        await c.cmd('MAIL FROM:<reports@stalwart.example>');
        assert.equal((await c.cmd('RCPT TO:<postmaster@example.com>')).code, 250);
        assert.equal((await c.cmd('RCPT TO:<alice@example.com>')).code, 550);
        const [r] = await c.data(readFixture('stalwart-mail-auth__rpt02.eml'));
        assert.equal(r.code, 250, r.text);
      } finally {
        c.close();
      }
      const metrics = await post(`https://localhost:${svc.http.port}/metrics`, Buffer.alloc(0), { ca, method: 'GET', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(metrics.status, 200);
      const text = String(metrics.body);
      assert.match(text, /tlsrpt_inbound_reports_total\{channel="http",status="imported",code="ok"\} [1-9]/);
      assert.match(text, /tlsrpt_inbound_reports_total\{channel="http",status="rejected",code="unauthorized"\} [1-9]/);
      assert.match(text, /tlsrpt_inbound_reports_total\{channel="smtp",status="imported",code="ok"\} [1-9]/);
      const rows = await svc.store.db.selectFrom('inbound_report').select(['channel', 'dkim_result']).orderBy('id').execute();
      assert.deepEqual(rows.map((x) => `${x.channel}:${x.dkim_result}`), ['http:none', 'smtp:none']);
    } finally {
      await svc.stop();
    }
  });
});

/** @module test/sending/delivery/https — POSTing reports to a real HTTPS receiver with a test CA. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, gunzipSync } from 'node:zlib';
import { postReport } from '../../../src/sending/deliver/https.js';
import { startHttpsServer, type TestHttpsServer } from '../../support/https-server.js';
import { captureLog } from './log-capture.js';
import { startDnsServer } from '../../support/dns-server.js';
import { createResolver } from '../../../src/dns/index.js';

const body = gzipSync(JSON.stringify({ 'organization-name': 'x' }));
const loopbackLookup = async () => ['127.0.0.1'];

describe('postReport', () => {
  let server: TestHttpsServer;
  before(async () => { server = await startHttpsServer({ statuses: [201] }); });
  after(() => server.close());

  const opts = (extra: Partial<Parameters<typeof postReport>[2]> = {}) => ({
    lookup: loopbackLookup, allowPrivateTargets: true, extraCa: server.ca, log: captureLog().log, ...extra,
  });

  it('POSTs the gzip body with Content-Type application/tlsrpt+gzip; 201 counts as delivered', async () => {
    server.received.length = 0;
    server.setStatuses([201]);
    const r = await postReport(server.url('/tlsrpt?x=1'), body, opts());
    assert.equal(r.kind, 'sent');
    assert.equal(server.received.length, 1);
    const got = server.received[0];
    assert.equal(got.method, 'POST');
    assert.equal(got.path, '/tlsrpt?x=1');
    assert.equal(got.headers['content-type'], 'application/tlsrpt+gzip');
    assert.deepEqual(JSON.parse(gunzipSync(got.body).toString()), { 'organization-name': 'x' });
  });

  it('connects to the address it checked and keeps the name for SNI, Host and the certificate', async () => {
    server.received.length = 0;
    let lookups = 0;
    const r = await postReport(server.url('/r', 'receiver.test'), body, opts({ lookup: async (h) => { lookups++; assert.equal(h, 'receiver.test'); return ['127.0.0.1']; } }));
    assert.equal(r.kind, 'sent', JSON.stringify(r));
    assert.equal(lookups, 1, 'exactly one lookup: the connection is pinned to its answer');
    assert.equal(server.received[0].servername, 'receiver.test');
    assert.equal(server.received[0].headers.host, `receiver.test:${server.port}`);
  });

  it('classifies answers: 500, 429 and 408 temporary, 400 permanent, a redirect permanent and not followed', async () => {
    for (const [status, kind] of [[500, 'temporary'], [429, 'temporary'], [408, 'temporary'], [400, 'permanent'], [302, 'permanent'], [200, 'sent']] as const) {
      server.setStatuses([status]);
      server.received.length = 0;
      const r = await postReport(server.url(), body, opts());
      assert.equal(r.kind, kind, `status ${status}`);
      assert.equal(server.received.length, 1, 'one request, no redirect followed');
    }
  });

  it('validates the certificate: without the extra CA the POST fails (temporary) and nothing is accepted', async () => {
    server.setStatuses([200]);
    const r = await postReport(server.url(), body, opts({ extraCa: undefined }));
    assert.equal(r.kind, 'temporary');
    assert.match(r.kind === 'temporary' ? r.error : '', /certificate/i);
  });

  it('validates the host name against the certificate', async () => {
    const r = await postReport(server.url('/', 'wrong-name.test'), body, opts());
    assert.equal(r.kind, 'temporary');
    assert.match(r.kind === 'temporary' ? r.error : '', /certificate|altnames|Hostname/i);
  });

  it('gives up on a receiver that does not answer in time (temporary)', async () => {
    const slow = await startHttpsServer({ statuses: [200], delayMs: 2000 });
    try {
      const t0 = Date.now();
      const r = await postReport(slow.url(), body, opts({ extraCa: slow.ca, totalTimeoutMs: 300 }));
      assert.equal(r.kind, 'temporary');
      assert.ok(Date.now() - t0 < 1500);
    } finally {
      await slow.close();
    }
  });

  it('treats a refused connection as temporary', async () => {
    const r = await postReport('https://localhost:1/', body, opts());
    assert.equal(r.kind, 'temporary');
  });
});

describe('SSRF protection', () => {
  let server: TestHttpsServer;
  before(async () => { server = await startHttpsServer({ statuses: [200] }); });
  after(() => server.close());

  for (const url of ['https://127.0.0.1/', 'https://[::1]/', 'https://10.0.0.1/', 'https://169.254.169.254/latest', 'https://[::ffff:127.0.0.1]/']) {
    it(`refuses ${url} and logs it`, async () => {
      const cap = captureLog();
      const r = await postReport(url, body, { lookup: loopbackLookup, allowPrivateTargets: false, extraCa: server.ca, log: cap.log });
      assert.equal(r.kind, 'permanent');
      const logged = cap.find('https rua refused (SSRF protection)');
      assert.equal(logged.length, 1);
      assert.equal(logged[0].url, url);
    });
  }

  it('refuses a name resolving to loopback (answered by a loopback DNS server), before any connection', async () => {
    server.received.length = 0;
    const cap = captureLog();
    const dns = await startDnsServer({ 'receiver.test': { A: ['127.0.0.1'] } });
    const resolver = createResolver({ servers: dns.servers });
    const r = await postReport(server.url('/tlsrpt', 'receiver.test'), body, { lookup: (h) => resolver.resolveAddresses(h), allowPrivateTargets: false, extraCa: server.ca, log: cap.log })
      .finally(() => dns.close());
    assert.equal(dns.queries.filter((q) => q.name === 'receiver.test').length >= 1, true);
    assert.equal(r.kind, 'permanent');
    assert.match(r.kind === 'permanent' ? r.error : '', /127\.0\.0\.1 is loopback/);
    assert.equal(server.received.length, 0);
    assert.equal(cap.find('https rua refused (SSRF protection)').length, 1);
  });

  it('does not follow a redirect to an internal address', async () => {
    const redirecting = await startHttpsServer({ statuses: [307], headers: { location: 'https://127.0.0.1:9/steal' } });
    try {
      const r = await postReport(redirecting.url(), body, { lookup: loopbackLookup, allowPrivateTargets: true, extraCa: redirecting.ca, log: captureLog().log });
      assert.equal(r.kind, 'permanent');
      assert.match(r.kind === 'permanent' ? r.error : '', /redirect.*not followed/);
      assert.equal(redirecting.received.length, 1);
    } finally {
      await redirecting.close();
    }
  });
});

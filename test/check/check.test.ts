/**
 * @module test/check/check — `tlsrpt check` against real loopback peers: a DNS server with a zone
 * per scenario (AD bit for DANE), an HTTPS server for the MTA-STS policies with a test CA, and
 * SMTP servers on 127.0.0.2-4 (STARTTLS with a good certificate, with an expired one, without
 * STARTTLS). Good and broken set-ups; the CLI's --json and exit codes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { startDnsServer, type DnsTestServer, type Zone } from '../support/dns-server.js';
import { makePki, type TestPki } from './pki.js';
import { createResolver } from '../../src/dns/resolver.js';
import { checkDomain, type CheckReport } from '../../src/check/index.js';
import { tlsaOverUdp } from '../../src/check/dns.js';
import { mxMatchesPattern } from '../../src/check/mta-sts.js';
import { renderCheck } from '../../src/check/render.js';

const SCENARIOS = ['good', 'ctype', 'big', 'mismatch', 'expired', 'nostarttls', 'tlsa', 'redirect', 'testing'];
const policy = (mx: string[], mode = 'enforce') => `version: STSv1\r\nmode: ${mode}\r\n${mx.map((m) => `mx: ${m}\r\n`).join('')}max_age: 604800\r\n`;
const POLICIES: Record<string, { status?: number; type?: string; body: string; location?: string }> = {
  'mta-sts.good.test': { body: policy(['*.good.test']) },
  'mta-sts.ctype.test': { type: 'text/html', body: policy(['*.good.test']) },
  'mta-sts.big.test': { body: policy(['*.good.test']) + '#'.repeat(70 * 1024) },
  'mta-sts.mismatch.test': { body: policy(['mail.other.test']) },
  'mta-sts.expired.test': { body: policy(['mx.expired.test']) },
  'mta-sts.nostarttls.test': { body: policy(['mx.nostarttls.test']) },
  'mta-sts.tlsa.test': { body: policy(['*.good.test']) },
  'mta-sts.redirect.test': { status: 301, location: 'https://www.redirect.test/mta-sts.txt', body: '' },
  'mta-sts.testing.test': { body: policy(['*.good.test'], 'testing') },
};

let pki: TestPki;
let dns: DnsTestServer;
let https: Server;
let httpsPort: number;
const smtp: SMTPServer[] = [];
let smtpPort = 0;
let goodSpki: Buffer;
let dir: string;

async function listenSmtp(address: string, opts: { cert?: { certPem: string; keyPem: string } }): Promise<void> {
  const server = new SMTPServer({
    secure: false, logger: false, authOptional: true,
    ...(opts.cert ? { key: opts.cert.keyPem, cert: opts.cert.certPem } : { hideSTARTTLS: true }),
    disabledCommands: opts.cert ? ['AUTH'] : ['AUTH', 'STARTTLS'],
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(smtpPort, address, () => resolve());
  });
  smtpPort = (server.server.address() as { port: number }).port;
  smtp.push(server);
}

before(async () => {
  pki = makePki();
  dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-check-'));
  writeFileSync(path.join(dir, 'ca.pem'), pki.caPem);
  const good = pki.leaf(['*.good.test', 'mx.expired.test']);
  goodSpki = new X509Certificate(good.certPem).publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
  const web = pki.leaf(SCENARIOS.map((s) => `mta-sts.${s}.test`));
  https = createServer({ cert: web.certPem, key: web.keyPem }, (req, res) => {
    const p = POLICIES[String(req.headers.host).replace(/:\d+$/, '')];
    if (!p || req.url !== '/.well-known/mta-sts.txt') { res.writeHead(404).end(); return; }
    res.writeHead(p.status ?? 200, { 'content-type': p.type ?? 'text/plain', ...(p.location ? { location: p.location } : {}) });
    res.end(p.body);
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  httpsPort = (https.address() as { port: number }).port;
  await listenSmtp('127.0.0.2', { cert: good });
  await listenSmtp('127.0.0.3', { cert: pki.leaf(['mx.expired.test'], { expired: true }) });
  await listenSmtp('127.0.0.4', {});
  const tlsrpt = (d: string) => ({ TXT: [[`v=TLSRPTv1; rua=mailto:tlsrpt@${d}`]] });
  const sts = { TXT: [['v=STSv1; id=20240101T000000;']] };
  const web127 = { A: ['127.0.0.1'] };
  const zone: Zone = {
    'good.test': { MX: [1, 2, 3].map((i) => ({ exchange: `mx${i}.good.test`, priority: i * 10 })) },
    '_smtp._tls.good.test': { TXT: [['v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://tlsrpt.good.test/v1']] },
    '_mta-sts.good.test': sts, 'mta-sts.good.test': web127,
    'mx1.good.test': { A: ['127.0.0.2'] }, 'mx2.good.test': { A: ['127.0.0.2'] }, 'mx3.good.test': { A: ['127.0.0.2'] }, 'mx9.good.test': { A: ['127.0.0.2'] },
    '_25._tcp.mx1.good.test': { authenticated: true, TLSA: [{ usage: 3, selector: 1, matchingType: 1, certificate: createHash('sha256').update(goodSpki).digest() }] },
    '_25._tcp.mx2.good.test': { TLSA: [{ usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 7) }] },
    // two TLSRPT records, and an rua whose domain takes no mail
    '_smtp._tls.two.test': { TXT: [['v=TLSRPTv1; rua=mailto:a@good.test'], ['v=TLSRPTv1; rua=mailto:b@good.test']] },
    '_smtp._tls.badrua.test': { TXT: [['v=TLSRPTv1; rua=mailto:reports@nomail.test,ftp://x.test/']] },
  };
  for (const s of SCENARIOS.filter((x) => x !== 'good')) {
    Object.assign(zone, { [s === 'tlsa' ? 'tlsa.test' : `${s}.test`]: {}, [`_smtp._tls.${s}.test`]: tlsrpt('good.test'), [`_mta-sts.${s}.test`]: sts, [`mta-sts.${s}.test`]: web127 });
  }
  zone['ctype.test'] = zone['big.test'] = zone['redirect.test'] = zone['testing.test'] = { MX: [{ exchange: 'mx1.good.test', priority: 10 }] };
  zone['mismatch.test'] = { MX: [{ exchange: 'mx1.good.test', priority: 10 }] };
  zone['expired.test'] = { MX: [{ exchange: 'mx.expired.test', priority: 10 }] };
  zone['mx.expired.test'] = { A: ['127.0.0.3'] };
  zone['nostarttls.test'] = { MX: [{ exchange: 'mx.nostarttls.test', priority: 10 }] };
  zone['mx.nostarttls.test'] = { A: ['127.0.0.4'] };
  zone['tlsa.test'] = { MX: [{ exchange: 'mx9.good.test', priority: 10 }] };
  zone['_25._tcp.mx9.good.test'] = { authenticated: true, TLSA: [{ usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 1) }] };
  // the policy host of nocert.test is not in the HTTPS server's certificate
  Object.assign(zone, { 'nocert.test': { MX: [{ exchange: 'mx1.good.test', priority: 10 }] }, '_smtp._tls.nocert.test': tlsrpt('good.test'), '_mta-sts.nocert.test': sts, 'mta-sts.nocert.test': web127 });
  dns = await startDnsServer(zone);
});

after(async () => {
  await Promise.all(smtp.map((s) => new Promise<void>((r) => s.close(() => r()))));
  https?.closeAllConnections();
  await new Promise<void>((r) => (https ? https.close(() => r()) : r()));
  await dns?.close();
  pki?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function check(domain: string, opts: { now?: number } = {}): Promise<CheckReport> {
  return checkDomain(domain, {
    resolver: createResolver({ servers: dns.servers, timeoutMs: 1000 }),
    tlsa: tlsaOverUdp(dns.servers, 1000),
    ports: { https: httpsPort, smtp: smtpPort },
    ca: [pki.caPem],
    timeoutMs: 3000,
    ...(opts.now ? { now: () => opts.now! } : {}),
  });
}

const step = (r: CheckReport, id: string, mx?: string) => {
  const s = r.steps.find((x) => x.id === id && (mx === undefined || x.mx === mx));
  assert.ok(s, `no step ${id}${mx ? ` for ${mx}` : ''} in ${JSON.stringify(r.steps.map((x) => [x.id, x.mx]))}`);
  return s;
};

test('a good domain with 3 MX hosts: every step passes, DANE matches on mx1', async () => {
  const r = await check('good.test');
  assert.equal(r.ok, true, renderCheck(r));
  // The 2 s figure is measured by bench/check on a quiet machine; here other test files share the CPU.
  assert.ok(r.durationMs < 5000, `took ${r.durationMs} ms`);
  assert.deepEqual(step(r, 'mx-records').data?.hosts, ['mx1.good.test', 'mx2.good.test', 'mx3.good.test']);
  assert.equal(r.steps.filter((s) => s.id === 'tlsrpt-rua' && s.status === 'pass').length, 2);
  assert.equal(step(r, 'mta-sts-policy').detail, 'mode enforce, mx *.good.test, max_age 604800');
  for (const mx of ['mx1.good.test', 'mx2.good.test', 'mx3.good.test']) {
    for (const id of ['mx-policy', 'mx-starttls', 'mx-certificate']) assert.equal(step(r, id, mx).status, 'pass', `${id} ${mx}`);
  }
  assert.equal(step(r, 'mx-tlsa', 'mx1.good.test').status, 'pass');
  // mx2 publishes a non-matching TLSA record, but unvalidated (no AD): not judged
  assert.equal(step(r, 'mx-tlsa', 'mx2.good.test').status, 'skip');
  assert.match(step(r, 'mx-tlsa', 'mx2.good.test').detail, /did not validate/);
  assert.match(renderCheck(r), /^✔ TLSRPT record at _smtp\._tls\.good\.test: v=TLSRPTv1;/m);
});

test('missing records, two TLSRPT records, an unusable rua', async () => {
  const missing = await check('missing.test');
  assert.equal(missing.ok, false);
  assert.equal(step(missing, 'tlsrpt-record').status, 'fail');
  assert.match(step(missing, 'tlsrpt-record').hint!, /publish a TXT record at _smtp\._tls\.missing\.test/);
  assert.equal(step(missing, 'mta-sts-record').status, 'fail');
  assert.equal(step(missing, 'mx-records').status, 'fail');
  const two = await check('two.test');
  assert.equal(step(two, 'tlsrpt-record').status, 'fail');
  assert.match(step(two, 'tlsrpt-record').detail, /2 v=TLSRPTv1 records/);
  assert.match(step(two, 'tlsrpt-record').hint!, /remove all but one/);
  const bad = await check('badrua.test');
  assert.equal(step(bad, 'tlsrpt-record').status, 'pass');
  const ruas = bad.steps.filter((s) => s.id === 'tlsrpt-rua');
  assert.deepEqual(ruas.map((s) => s.status).sort(), ['fail', 'warn']);
  assert.match(ruas.find((s) => s.status === 'fail')!.detail, /nomail\.test has no MX and no address/);
});

test('policy served with the wrong type, oversized, redirected, or with a certificate not for its host', async () => {
  const ctype = await check('ctype.test');
  assert.equal(step(ctype, 'mta-sts-fetch').status, 'fail');
  assert.match(step(ctype, 'mta-sts-fetch').detail, /Content-Type "text\/html", not text\/plain/);
  const big = await check('big.test');
  assert.match(step(big, 'mta-sts-fetch').detail, /larger than 65536 bytes/);
  const redirect = await check('redirect.test');
  assert.match(step(redirect, 'mta-sts-fetch').detail, /HTTP 301 redirect to https:\/\/www\.redirect\.test/);
  const nocert = await check('nocert.test');
  assert.match(step(nocert, 'mta-sts-fetch').detail, /certificate not valid for mta-sts\.nocert\.test/);
  assert.match(step(nocert, 'mta-sts-fetch').hint!, /sts-webpki-invalid/);
  for (const r of [ctype, big, redirect, nocert]) {
    assert.equal(r.ok, false);
    assert.equal(r.steps.some((s) => s.id === 'mx-policy'), false, 'no policy, so no MX pattern check');
  }
  const testing = await check('testing.test');
  assert.equal(testing.ok, true, renderCheck(testing));
  assert.equal(step(testing, 'mta-sts-policy').status, 'warn');
});

test('MX not in the policy, expired certificate, no STARTTLS, TLSA mismatch', async () => {
  const mismatch = await check('mismatch.test');
  assert.equal(step(mismatch, 'mx-policy', 'mx1.good.test').status, 'fail');
  assert.match(step(mismatch, 'mx-policy', 'mx1.good.test').hint!, /add "mx: mx1\.good\.test"/);
  const expired = await check('expired.test');
  assert.equal(step(expired, 'mx-starttls', 'mx.expired.test').status, 'pass');
  assert.equal(step(expired, 'mx-certificate', 'mx.expired.test').status, 'fail');
  assert.match(step(expired, 'mx-certificate', 'mx.expired.test').detail, /^expired .* \(senders with MTA-STS report certificate-expired and do not deliver\)/);
  const nostarttls = await check('nostarttls.test');
  assert.equal(step(nostarttls, 'mx-starttls', 'mx.nostarttls.test').status, 'fail');
  assert.match(step(nostarttls, 'mx-starttls', 'mx.nostarttls.test').detail, /EHLO does not offer STARTTLS \(senders with MTA-STS report starttls-not-supported/);
  const tlsa = await check('tlsa.test');
  assert.equal(step(tlsa, 'mx-certificate', 'mx9.good.test').status, 'pass');
  assert.equal(step(tlsa, 'mx-tlsa', 'mx9.good.test').status, 'fail');
  assert.match(step(tlsa, 'mx-tlsa', 'mx9.good.test').detail, /none of 1 DNSSEC-validated record\(s\) matches/);
  for (const r of [mismatch, expired, nostarttls, tlsa]) assert.equal(r.ok, false);
});

test('the injected clock judges expiry: the good certificate is expired in 40 days and due for renewal in 20', async () => {
  const soon = await check('good.test', { now: Date.now() + 20 * 86_400_000 });
  assert.equal(soon.ok, true);
  assert.equal(step(soon, 'mx-certificate', 'mx1.good.test').status, 'warn');
  assert.match(step(soon, 'mx-certificate', 'mx1.good.test').detail, /^expires in (9|10) day\(s\)/);
  const r = await check('good.test', { now: Date.now() + 40 * 86_400_000 });
  assert.equal(r.ok, false);
  assert.match(step(r, 'mx-certificate', 'mx1.good.test').detail, /^expired/);
  assert.match(step(r, 'mta-sts-fetch').detail, /certificate expired/);
});

test('MTA-STS mx patterns: "*" stands for exactly one label (RFC 8461 §4.1)', () => {
  assert.equal(mxMatchesPattern('mx1.example.org', '*.example.org'), true);
  assert.equal(mxMatchesPattern('a.b.example.org', '*.example.org'), false);
  assert.equal(mxMatchesPattern('example.org', '*.example.org'), false);
  assert.equal(mxMatchesPattern('MX.Example.org.', 'mx.example.org'), true);
});

test('tlsrpt check CLI: --json document and exit 0 for a good domain, exit 1 with hints for a broken one', async () => {
  const run = promisify(execFile);
  const cfg = path.join(dir, 'tlsrpt.json');
  writeFileSync(cfg, JSON.stringify({ store: { sqlite: path.join(dir, 'db.sqlite') }, dns: { servers: dns.servers } }));
  const args = ['--config', cfg, '--smtp-port', String(smtpPort), '--https-port', String(httpsPort), '--ca', path.join(dir, 'ca.pem')];
  const ok = await run(process.execPath, ['bin/tlsrpt.js', 'check', 'good.test', '--json', ...args]);
  const doc = JSON.parse(ok.stdout);
  assert.equal(doc.ok, true);
  assert.equal(doc.domain, 'good.test');
  const bad = await run(process.execPath, ['bin/tlsrpt.js', 'check', 'nostarttls.test', ...args]).then(() => assert.fail('expected exit 1'), (e) => e);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^✘ mx\.nostarttls\.test: STARTTLS on port \d+: EHLO does not offer STARTTLS/m);
  assert.match(bad.stdout, /^ {4}hint: enable STARTTLS/m);
  assert.match(bad.stdout, /^FAILED: 1 failure\(s\)/m);
});

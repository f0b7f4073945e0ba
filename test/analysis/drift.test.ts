/**
 * @module test/analysis/drift — policy drift on both databases: reporters on the current, an
 * old or a never-published policy (order and key case of policy lines do not matter), TLSA
 * RRsets; and `tlsrpt inbound drift` fetching the live policy from loopback DNS + HTTPS peers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { forEachStore } from '../support/stores.js';
import { startDnsServer } from '../support/dns-server.js';
import { makePki } from '../check/pki.js';
import { openStore } from '../../src/store/index.js';
import { normalizePolicyStrings, policyDrift, policyFingerprint, recordPublished, type PublishedPolicy } from '../../src/analysis/drift.js';
import { DAY, storeReport } from './alert-reports.js';

const TODAY = Math.floor(Date.now() / 1000 / DAY);
const P1 = ['version: STSv1', 'mode: testing', 'mx: mx1.example.org', 'max_age: 86400'];
const P2 = ['version: STSv1', 'mode: enforce', 'mx: mx1.example.org', 'mx: mx2.example.org', 'max_age: 604800'];
const P3 = ['version: STSv1', 'mode: none', 'mx: evil.example.net', 'max_age: 86400'];
const TLSA = ['3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A33F9EF3040C8B7C285BC'];

test('policy strings compare without regard to line order, key case or spacing', () => {
  const shuffled = ['Max_Age: 604800', 'mx: mx2.example.org', 'MODE:  enforce', 'mx: mx1.example.org', 'version: STSv1'];
  assert.deepEqual(normalizePolicyStrings('sts', shuffled), normalizePolicyStrings('sts', P2));
  assert.equal(policyFingerprint('sts', shuffled), policyFingerprint('sts', P2));
  assert.notEqual(policyFingerprint('sts', P1), policyFingerprint('sts', P2));
  assert.equal(policyFingerprint('tlsa', [TLSA[0].toLowerCase()]), policyFingerprint('tlsa', TLSA));
});

forEachStore('policy drift', (open) => {
  test('current, old (stale cache) and never-published policies per reporter, since when', async () => {
    const store = await open();
    const now = TODAY * DAY;
    await recordPublished(store, 'example.org', [{ policyType: 'sts', policyStrings: P1, stsId: 'one' }], now - 20 * DAY);
    const current: PublishedPolicy[] = [{ policyType: 'sts', policyStrings: P2, stsId: 'two' }, { policyType: 'tlsa', policyStrings: TLSA }];
    await recordPublished(store, 'example.org', current, now - 5 * DAY);
    await recordPublished(store, 'example.org', current, now);
    for (let d = TODAY - 10; d < TODAY; d++) {
      await storeReport(store, { domain: 'example.org', day: d, reporter: 'google.com', ok: 10, policyStrings: d < TODAY - 4 ? P1 : [...P2].reverse() });
      await storeReport(store, { domain: 'example.org', day: d, reporter: 'microsoft.com', ok: 10, policyStrings: P1 });
    }
    await storeReport(store, { domain: 'example.org', day: TODAY - 2, reporter: 'mitm.example', ok: 1, policyStrings: P3 });
    await storeReport(store, { domain: 'example.org', day: TODAY - 2, reporter: 'mail.ru', ok: 1, policyStrings: [] });
    // Before we first recorded the domain's policy (20 days ago): cannot be judged.
    await storeReport(store, { domain: 'example.org', day: TODAY - 30, reporter: 'archive.example', ok: 1, policyStrings: P3 });
    await storeReport(store, { domain: 'example.org', day: TODAY - 1, reporter: 'microsoft.com', ok: 3, policyType: 'tlsa', policyStrings: [TLSA[0].toLowerCase()] });
    const drift = await policyDrift(store, 'example.org', current);
    const view = drift.entries.map((e) => [e.reporter, e.policyType, e.status, e.latest, e.firstDay, e.lastDay, e.reports]);
    const day = (n: number) => new Date((TODAY - n) * DAY * 1000).toISOString().slice(0, 10);
    assert.deepEqual(view, [
      ['archive.example', 'sts', 'unverified', true, day(30), day(30), 1],
      ['google.com', 'sts', 'old', false, day(10), day(5), 6],
      ['google.com', 'sts', 'current', true, day(4), day(1), 4],
      ['microsoft.com', 'sts', 'old', true, day(10), day(1), 10],
      ['microsoft.com', 'tlsa', 'current', true, day(1), day(1), 1],
      ['mitm.example', 'sts', 'unknown', true, day(2), day(2), 1],
    ]);
    assert.deepEqual(drift.stale.map((e) => e.reporter), ['microsoft.com']);
    assert.equal(drift.stale[0].publishedLastSeen, new Date((TODAY - 20) * DAY * 1000).toISOString().replace('.000Z', 'Z'));
    assert.deepEqual(drift.unknown.map((e) => e.reporter), ['mitm.example']);
  });
});

test('tlsrpt inbound drift fetches the live policy (loopback DNS + HTTPS), records it; --offline reuses it; exit 1 on a never-published policy', async () => {
  const run = promisify(execFile);
  const pki = makePki();
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-drift-'));
  const web = pki.leaf(['mta-sts.example.org']);
  const https = createServer({ cert: web.certPem, key: web.keyPem }, (_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(P2.join('\r\n') + '\r\n'); });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  const dns = await startDnsServer({ '_mta-sts.example.org': { TXT: [['v=STSv1; id=two']] }, 'mta-sts.example.org': { A: ['127.0.0.1'] }, 'example.org': {} });
  try {
    writeFileSync(path.join(dir, 'ca.pem'), pki.caPem);
    const db = path.join(dir, 'db.sqlite');
    const cfg = path.join(dir, 'tlsrpt.json');
    writeFileSync(cfg, JSON.stringify({ store: { sqlite: db }, dns: { servers: dns.servers } }));
    const store = await openStore({ sqlite: db });
    await storeReport(store, { domain: 'example.org', day: TODAY - 1, reporter: 'google.com', ok: 5, policyStrings: P2 });
    await store.close();
    const args = ['bin/tlsrpt.js', 'inbound', 'drift', 'example.org', '--config', cfg];
    const live = JSON.parse((await run(process.execPath, [...args, '--json', '--https-port', String((https.address() as { port: number }).port), '--ca', path.join(dir, 'ca.pem')])).stdout);
    assert.deepEqual(live.current.map((p: PublishedPolicy) => [p.policyType, p.stsId, p.policyStrings]), [['sts', 'two', P2]]);
    assert.deepEqual(live.entries.map((e: { reporter: string; status: string }) => [e.reporter, e.status]), [['google.com', 'current']]);
    const store2 = await openStore({ sqlite: db });
    await storeReport(store2, { domain: 'example.org', day: TODAY, reporter: 'mitm.example', ok: 1, policyStrings: P3 });
    await store2.close();
    const offline = await run(process.execPath, [...args, '--offline']).then(() => assert.fail('expected exit 1'), (e) => e);
    assert.equal(offline.code, 1);
    assert.match(offline.stdout, /^✘ mitm\.example quotes a sts policy never seen published/m);
    assert.match(offline.stdout, /^ {2}sts [0-9a-f]{16} id=two: version: STSv1 \| mode: enforce/m);
    const csv = await run(process.execPath, [...args, '--offline', '--csv']).then(() => assert.fail('expected exit 1'), (e) => e);
    const lines = csv.stdout.trimEnd().split('\r\n');
    assert.equal(lines[0], 'reporter,policyType,status,latest,firstDay,lastDay,reports,fingerprint,policyStrings,publishedFirstSeen,publishedLastSeen');
    assert.match(lines[2], /^mitm\.example,sts,unknown,true,/);
  } finally {
    https.closeAllConnections();
    await new Promise<void>((r) => https.close(() => r()));
    await dns.close();
    pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The worker-thread analysis pool gives the same analysis as the in-process one, including DKIM against a loopback DNS server. */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';
import { createResolver, mailauthResolver } from '../../src/dns/index.js';
import { analyseInput } from '../../src/receiving/pipeline/ingest.js';
import { createAnalysePool } from '../../src/receiving/pipeline/analyse-pool.js';
import { buildReportMail, makeDkimKey, signMail, txtStrings } from './support/report-mail.js';
import { makeReport, readFixture } from './support/reports.js';

let dns: DnsTestServer;
const key = makeDkimKey('sender.example', 'tlsrpt');
before(async () => { dns = await startDnsServer({ [key.dnsName]: { TXT: [txtStrings(key.txt)] } }); });
after(() => dns.close());

it('analyses in worker threads exactly as in-process (reports, findings, DKIM, refusals)', async () => {
  const pool = createAnalysePool({ threads: 2, dnsServers: dns.servers, limits: () => ({ maxDecompressedBytes: 1_000_000 }) });
  try {
    const signed = await signMail(buildReportMail({ reportJson: makeReport({ submitter: 'sender.example', policyDomain: 'example.org' }), policyDomain: 'example.org', submitter: 'sender.example' }), key);
    // 250 policies: handed back a slice at a time (analyse-worker.ts), reassembled in order.
    const one = JSON.parse(makeReport({ submitter: 'sender.example', policyDomain: 'example.org' }));
    const large = Buffer.from(JSON.stringify({ ...one, policies: Array.from({ length: 250 }, (_, i) => ({ ...one.policies[0], policy: { ...one.policies[0].policy, 'policy-domain': `d${i}.example` } })) }));
    const inputs = [large, signed, readFixture('stalwart-mail-auth__rpt02.eml'), readFixture('dmarc-report-viewer__microsoft.json'), Buffer.from('garbage'), Buffer.from('{"policies": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}')];
    const resolver = mailauthResolver(createResolver({ servers: dns.servers }));
    const inWorkers = await Promise.all(inputs.map((b) => pool.analyse(b)));
    for (const [i, b] of inputs.entries()) {
      const local = await analyseInput(b, { resolver, limits: { maxDecompressedBytes: 1_000_000 } });
      // Bytes come back from a worker as Uint8Array, not Buffer: compare their content.
      const plain = (a: unknown) => JSON.parse(JSON.stringify(a, (_k, v) => (v instanceof Uint8Array || v?.type === 'Buffer' ? Buffer.from(v instanceof Uint8Array ? v : v.data).toString('hex') : v)));
      assert.deepEqual(plain(inWorkers[i]), plain(local), `input ${i}`);
    }
    const big = inWorkers[0];
    assert.ok(big.ok && 'report' in big.payloads[0].parsed);
    assert.deepEqual(big.payloads[0].parsed.report.policies.map((p) => p.policy.policyDomain), Array.from({ length: 250 }, (_, i) => `d${i}.example`));
    const first = inWorkers[1];
    assert.ok(first.ok && first.payloads[0].dkim?.signatures[0].result === 'pass');
    assert.equal(inWorkers[4].ok, false);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.analyse(Buffer.from('{}')), /closed/);
});

/**
 * Issue 10 item 5: what one stranger's POST /tlsrpt may cost. Defaults 1 MiB as sent and
 * 10 MiB inflated (413 beyond); caps on strings, policies and details per policy with a
 * finding each; a byte budget per client (429); IPv6 clients limited per /64; the report's
 * bytes stored once, not once per copy.
 */
import { storedPayload } from '../../src/store/packed.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createApp } from '../../src/http/app.js';
import { reportEndpointRoutes } from '../../src/http/routes/report-endpoint.js';
import { createIngestor, type Ingestor } from '../../src/receiving/pipeline/ingest.js';
import { clientKey, createRateLimiter } from '../../src/common/rate-limit.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { ServiceConfig } from '../../src/settings/config.js';
import { silentLog } from '../../src/common/log.js';
import { forEachStore } from '../support/stores.js';
import { makeReport } from './support/reports.js';

const accepting: Ingestor = { ingest: async (b, m) => [{ status: 'imported', id: 1, reportId: `${b.byteLength} ${m.maxDecompressedBytes}` }] };

function endpoint(ingestor: Ingestor, o: Partial<Parameters<typeof reportEndpointRoutes>[0]> = {}) {
  const http = ServiceConfig.parse({}).http;
  const app = createApp();
  app.route('/', reportEndpointRoutes({
    ingestor, log: silentLog, path: '/tlsrpt', maxBodyBytes: http.reportMaxBodyBytes, maxInflatedBytes: http.reportMaxInflatedBytes,
    bytesPerMinute: http.reportBytesPerMinute, ratePerMinute: 6000, ...o,
  }));
  return (body: Buffer, peer = '192.0.2.1') => app.request('/tlsrpt', { method: 'POST', body: new Uint8Array(body) as unknown as BodyInit, headers: { 'content-length': String(body.byteLength) } }, { incoming: { socket: { remoteAddress: peer } } });
}

const doc = (over: Record<string, unknown> = {}) => ({ ...JSON.parse(makeReport({ submitter: 'sender.example', policyDomain: 'example.org' })), ...over });

describe('report endpoint defaults and budgets', () => {
  it('defaults: 413 for a body over 1 MiB; the 10 MiB inflation cap is handed to the pipeline', async () => {
    const http = ServiceConfig.parse({}).http;
    assert.equal(http.reportMaxBodyBytes, 1048576);
    assert.equal(http.reportMaxInflatedBytes, 10485760);
    const post = endpoint(accepting);
    assert.equal((await post(Buffer.alloc(2 * 1024 * 1024, 'a'))).status, 413);
    const ok = await post(Buffer.from('{}'));
    assert.equal(ok.status, 201);
    assert.equal((await ok.json() as any).reports[0].reportId, '2 10485760');
  });

  it('a gzip body that inflates past 10 MiB is refused with 413', async (t) => {
    const store = await (await import('../support/stores.js')).freshDatabase('sqlite');
    const { openStore } = await import('../../src/store/index.js');
    const s = await openStore(store.config);
    t.after(async () => { await s.close(); await store.dispose(); });
    const bomb = gzipSync(Buffer.from(JSON.stringify(doc({ 'x-pad': 'a'.repeat(11 * 1024 * 1024) }))));
    assert.ok(bomb.byteLength < 1048576);
    const r = await endpoint(createIngestor({ store: s, log: silentLog }))(bomb);
    assert.equal(r.status, 413, await r.text());
  });

  it('a client over its byte budget gets 429; another client does not', async () => {
    const post = endpoint(accepting, { bytesPerMinute: 1_000_000, maxBodyBytes: 600_000, byteLimiter: undefined });
    const body = Buffer.alloc(500_000, ' ');
    assert.equal((await post(body)).status, 201);
    const refused = await post(body);
    assert.equal(refused.status, 429);
    assert.match((await refused.json() as any).error.message, /reportBytesPerMinute/);
    assert.equal((await post(body, '192.0.2.2')).status, 201);
  });

  it('IPv6 clients are limited per /64', async () => {
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    const limiter = createRateLimiter({ ratePerMinute: 60, burst: 2 });
    const post = endpoint(accepting, { limiter });
    assert.equal((await post(Buffer.from('{}'), '2001:db8:1:2::1')).status, 201);
    assert.equal((await post(Buffer.from('{}'), '2001:db8:1:2::2')).status, 201);
    assert.equal((await post(Buffer.from('{}'), '2001:db8:1:2:ffff::3')).status, 429, 'same /64, new address');
    assert.equal((await post(Buffer.from('{}'), '2001:db8:1:3::1')).status, 201, 'another /64');
  });
});

describe('report caps', () => {
  it('keeps at most 5,000 failure details in the whole report, with a finding', () => {
    const d = doc();
    const detail = { 'result-type': 'certificate-expired', 'failed-session-count': 1 };
    d.policies = [0, 1, 2].map((i) => ({ ...d.policies[0], policy: { ...d.policies[0].policy, 'policy-domain': `p${i}.example.org` }, 'failure-details': Array.from({ length: 2000 }, () => detail) }));
    const { report, findings } = parseReport(JSON.stringify(d));
    assert.deepEqual(report.policies.map((p) => p.failureDetails.length), [1000, 1000, 1000]);
    d.policies = Array.from({ length: 8 }, (_, i) => ({ ...d.policies[0], policy: { ...d.policies[0].policy, 'policy-domain': `p${i}.example.org` }, 'failure-details': Array.from({ length: 900 }, () => detail) }));
    const capped = parseReport(JSON.stringify(d));
    assert.deepEqual(capped.report.policies.map((p) => p.failureDetails.length), [900, 900, 900, 900, 900, 500, 0, 0]);
    assert.equal(capped.findings.filter((f) => f.code === 'too-many-failure-details').length, 3);
    assert.equal(findings.filter((f) => f.code === 'too-many-failure-details').length, 3, 'per-policy cap still applies');
  });

  it('cuts long strings, extra policies, details per policy, long lists and big extras, with a finding each', () => {
    const d = doc({ 'organization-name': 'o'.repeat(5000), 'x-big': 'x'.repeat(10_000) });
    const p = d.policies[0];
    p.policy['policy-string'] = Array.from({ length: 150 }, (_, i) => `mx: m${i}.example.org`);
    p['failure-details'] = Array.from({ length: 1500 }, () => ({ 'result-type': 'certificate-expired', 'failed-session-count': 1, 'additional-information': 'i'.repeat(2000) }));
    d.policies = [p, ...Array.from({ length: 2100 }, () => ({ policy: { 'policy-type': 'no-policy-found', 'policy-domain': 'example.org' }, summary: { 'total-successful-session-count': 1, 'total-failure-session-count': 0 }, 'failure-details': [] }))];
    const { report, findings } = parseReport(JSON.stringify(d));
    const codes = new Set(findings.map((f) => `${f.code}@${f.path}`));
    assert.equal(report.organizationName.length, 1024);
    assert.ok(codes.has('string-too-long@organization-name'));
    assert.equal(report.policies.length, 2000);
    assert.ok(codes.has('too-many-policies@policies'));
    assert.equal(report.policies[0].failureDetails.length, 1000);
    assert.ok(codes.has('too-many-failure-details@policies[0].failure-details'));
    assert.equal(report.policies[0].policy.policyString.length, 100);
    assert.ok(codes.has('too-many-entries@policies[0].policy.policy-string'));
    assert.equal(report.policies[0].failureDetails[0].additionalInformation!.length, 1024);
    assert.equal(report.extra?.['x-big'], undefined);
    assert.ok(codes.has('extra-too-large@x-big'));
  });
});

forEachStore('byte budget counts inflated bytes', (open) => {
  it('a small gzip body of a large report is charged its inflated size: the next POST waits', async () => {
    const store = await open();
    const post = endpoint(createIngestor({ store, log: silentLog }), { bytesPerMinute: 1_000_000, byteLimiter: undefined });
    const d = doc({ 'x-note': 'n'.repeat(3000) });
    d.policies = Array.from({ length: 2000 }, (_, i) => ({ ...d.policies[0], policy: { ...d.policies[0].policy, 'policy-domain': `p${i}.example.org` } }));
    const inflated = Buffer.from(JSON.stringify(d));
    const gz = gzipSync(inflated);
    assert.ok(inflated.byteLength > 1_100_000 && gz.byteLength < 200_000, `${inflated.byteLength} inflated, ${gz.byteLength} sent`);
    const first = await post(gz);
    // on PostgreSQL this also proves the de-duplication key fits a B-tree row with 2,000 policy domains
    assert.equal(first.status, 201, await first.clone().text());
    const next = await post(Buffer.from(JSON.stringify(doc())));
    assert.equal(next.status, 429, 'the inflated megabytes used up the minute');
    assert.ok(Number(next.headers.get('retry-after')) >= 10, `Retry-After ${next.headers.get('retry-after')}`);
    assert.equal((await post(Buffer.from(JSON.stringify(doc())), '192.0.2.9')).status, 201, 'another client is not charged');
  });

  it('a gzip bomb is charged the whole inflation limit', async () => {
    const store = await open();
    const post = endpoint(createIngestor({ store, log: silentLog }), { bytesPerMinute: 4_000_000, maxInflatedBytes: 2_000_000, byteLimiter: undefined });
    const bomb = gzipSync(Buffer.from(JSON.stringify(doc({ 'x-pad': 'a'.repeat(3_000_000) }))));
    assert.ok(bomb.byteLength < 20_000);
    assert.equal((await post(bomb)).status, 413);
    // the budget's burst is 1 MiB (the body limit): 2 MB of inflation leaves the client in debt
    assert.equal((await post(Buffer.from(JSON.stringify(doc())))).status, 429, 'the bomb cost 2 MB of the budget, not 20 KB');
  });
});

forEachStore('report bytes stored once', (open) => {
  it('a JSON POST keeps its bytes once (payload); the stored fields are capped', async () => {
    const store = await open();
    const post = endpoint(createIngestor({ store, log: silentLog }));
    const body = Buffer.from(JSON.stringify(doc({ 'organization-name': 'o'.repeat(900_000) })));
    const r = await post(body);
    assert.equal(r.status, 201, await r.clone().text());
    const row = await store.db.selectFrom('inbound_report').select(['organization_name', 'report_json', 'payload', 'blob_encoding', 'raw']).executeTakeFirstOrThrow();
    assert.equal(row.organization_name.length, 1024);
    assert.ok(row.report_json.length < 10_000, `report_json ${row.report_json.length}`);
    // Kept once, and packed (store/packed.ts): 900 KB of one letter is a few KB on disk.
    assert.deepEqual(storedPayload(row), body);
    assert.ok(row.payload.byteLength < 10_000, `payload ${row.payload.byteLength}`);
    assert.equal(row.raw, null);
  });
});

/**
 * @module test/http/metrics-listen — `metrics.listen` serves GET /metrics on its own address
 * without the admin token (the main address still wants it), and the counters say what received
 * reports say: sessions by policy domain and result, with the domain label set bounded.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLog } from '../../src/common/log.js';
import { boundedLabel } from '../../src/common/metrics.js';
import { ServiceConfig } from '../../src/settings/config.js';
import { startService } from '../../src/service.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-metrics-listen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const report = (policyDomain: string, id: string) => JSON.stringify({
  'organization-name': 'Reporter Inc.', 'contact-info': 'tlsrpt@reporter.example', 'report-id': id,
  'date-range': { 'start-datetime': '2026-11-01T00:00:00Z', 'end-datetime': '2026-11-01T23:59:59Z' },
  policies: [{
    policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', 'mx: mx.example.com', 'max_age: 86400'], 'policy-domain': policyDomain, 'mx-host': ['mx.example.com'] },
    summary: { 'total-successful-session-count': 90, 'total-failure-session-count': 7 },
    'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.1', 'receiving-mx-hostname': 'mx.example.com', 'failed-session-count': 5 }],
  }],
});

it('GET /metrics on metrics.listen needs no token and counts sessions by policy domain and result', async () => {
  const token = 'metrics-listen-token-0123456789';
  const metricsPort = await freePort();
  const config = ServiceConfig.parse({
    store: { sqlite: path.join(dir, 't.db') },
    http: { listen: '127.0.0.1:0', token },
    metrics: { listen: `127.0.0.1:${metricsPort}` },
    SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
  });
  const svc = await startService(config, silentLog);
  try {
    const base = `http://127.0.0.1:${svc.http.port}`;
    const posted = await fetch(`${base}/tlsrpt`, { method: 'POST', headers: { 'content-type': 'application/tlsrpt+json' }, body: report('example.com', 'metrics-1') });
    assert.ok(posted.ok, `POST /tlsrpt: ${posted.status}`);
    assert.equal((await fetch(`${base}/metrics`)).status, 401, 'the main address still wants the token');
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^tlsrpt_inbound_sessions_total\{policy_domain="example\.com",result="successful"\} 90$/m);
    assert.match(text, /^tlsrpt_inbound_sessions_total\{policy_domain="example\.com",result="certificate-expired"\} 5$/m);
    assert.match(text, /^tlsrpt_inbound_sessions_total\{policy_domain="example\.com",result="failure-undetailed"\} 2$/m);
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/settings/TlsReportSettings`)).status, 404, 'nothing but /metrics there');
  } finally {
    await svc.stop();
  }
});

it('a label from an open set keeps its first 100 values, then says "other"', () => {
  const metric = `test_bounded_${Date.now()}`;
  for (let i = 0; i < 100; i++) assert.equal(boundedLabel(metric, `d${i}.example`), `d${i}.example`);
  assert.equal(boundedLabel(metric, 'new.example'), 'other');
  assert.equal(boundedLabel(metric, 'd7.example'), 'd7.example', 'a value already seen keeps its label');
});

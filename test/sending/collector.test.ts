/**
 * @module test/sending/collector — the whole collection path on both stores: the two real
 * libtlsrpt datagrams over a REAL unix datagram socket, and the same outcomes as JSON over real
 * HTTP, produce exactly the same counters; stop() flushes everything; metrics count by source.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { forEachStore } from '../support/stores.js';
import { silentLog } from '../../src/common/log.js';
import { registry } from '../../src/common/metrics.js';
import { createApp } from '../../src/http/app.js';
import { tokenAuth } from '../../src/http/auth.js';
import { listen } from '../../src/http/server.js';
import { eventsRoutes } from '../../src/http/routes/events.js';
import { createCollector } from '../../src/sending/collect/collector.js';

/** A fixed instant mid-day: the wall clock near 00:00 UTC would split one test's events over two windows. */
const atNoon = () => Date.UTC(2026, 10, 27, 12);
import { createDatagramSource } from '../../src/sending/collect/sources/datagram.js';
import { trySendDatagram } from '../../src/sending/collect/sources/datagram-socket.js';
import { listOpenWindows, windowToJson } from '../../src/analysis/outbound-windows.js';
import { openCollector } from '../../src/sending/library.js';
import { policyFingerprint } from '../../src/sending/collect/fingerprint.js';
import type { Store } from '../../src/store/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-collector-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// docs/spec/libtlsrpt-datagram.md, captured from libtlsrpt 0.5.1.
const REAL1 = '{"dpv": "1","d": "Example.NET","pr": "v=TLSRPTv1; rua=mailto:tlsrpt@example.net","policies":[{"policy-type":1,"policy-domain": "example.net","policy-string":["3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"],"t":0,"f":0}]}';
const REAL2 = '{"dpv": "1","d": "example.org","pr": "v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1","policies":[{"policy-type":2,"policy-domain": "example.org","policy-string":["version: STSv1","mode: enforce","mx: *.mx.example.org","max_age: 604800"],"mx-host":["*.mx.example.org"],"failure-details":[{"c":204,"s": "192.0.2.10","n": "mx1.mx.example.org","h": "mx1.mx.example.org","r": "198.51.100.25","a": "cert \\"expired\\"\\tline2\\n","f": "x509: certificate has expired"}],"t":1,"f":1}]}';
// The same two outcomes in the JSON form of POST /api/v1/events.
const JSON1 = { 'recipient-domain': 'Example.NET', 'tlsrpt-record': 'v=TLSRPTv1; rua=mailto:tlsrpt@example.net', policies: [{ 'policy-type': 'tlsa', 'policy-domain': 'example.net', 'policy-string': ['3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], result: 'success' }] };
const JSON2 = {
  'recipient-domain': 'example.org', 'tlsrpt-record': 'v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1',
  policies: [{
    'policy-type': 'sts', 'policy-domain': 'example.org', 'policy-string': ['version: STSv1', 'mode: enforce', 'mx: *.mx.example.org', 'max_age: 604800'], 'mx-host': ['*.mx.example.org'], result: 'failure',
    'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.10', 'receiving-mx-hostname': 'mx1.mx.example.org', 'receiving-mx-helo': 'mx1.mx.example.org', 'receiving-ip': '198.51.100.25', 'additional-information': 'cert "expired"\tline2\n', 'failure-reason-code': 'x509: certificate has expired' }],
  }],
};

const EXPECTED = [
  {
    reportDomain: 'example.net', frequency: 'daily', state: 'open',
    policies: [{
      fingerprint: policyFingerprint({ policyType: 'tlsa', policyDomain: 'example.net', policyString: ['3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'], mxHost: [] }, 'v=TLSRPTv1; rua=mailto:tlsrpt@example.net'),
      tlsrptRecord: 'v=TLSRPTv1; rua=mailto:tlsrpt@example.net',
      policy: { 'policy-type': 'tlsa', 'policy-string': ['3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], 'policy-domain': 'example.net', 'mx-host': [] },
      summary: { 'total-successful-session-count': 2, 'total-failure-session-count': 0 },
      'failure-details': [],
    }],
  },
  {
    reportDomain: 'example.org', frequency: 'daily', state: 'open',
    policies: [{
      fingerprint: policyFingerprint({ policyType: 'sts', policyDomain: 'example.org', policyString: ['max_age: 604800', 'mode: enforce', 'mx: *.mx.example.org', 'version: STSv1'], mxHost: ['*.mx.example.org'] }, 'v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1'),
      tlsrptRecord: 'v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1',
      policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', 'mx: *.mx.example.org', 'max_age: 604800'], 'policy-domain': 'example.org', 'mx-host': ['*.mx.example.org'] },
      summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 3 },
      'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.10', 'receiving-mx-hostname': 'mx1.mx.example.org', 'receiving-mx-helo': 'mx1.mx.example.org', 'receiving-ip': '198.51.100.25', 'failed-session-count': 3, 'additional-information': 'cert "expired"\tline2\n', 'failure-reason-code': 'x509: certificate has expired' }],
    }],
  },
];

/** Windows as the API shows them, without ids and times (those differ between databases / runs). */
async function collected(store: Store) {
  return (await listOpenWindows(store)).map(windowToJson).map(({ id: _i, windowStart: _s, windowEnd: _e, ...w }) => w);
}

const journalRows = async (store: Store) =>
  Number((await store.db.selectFrom('outbound_journal').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

async function send(p: string, data: string): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (trySendDatagram(p, Buffer.from(data))) return;
    await tick();
  }
  throw new Error('socket never drained');
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function post(port: number, pathName: string, body: unknown, token?: string): Promise<{ status: number; json: any }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathName, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length, ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const metricValue = async (name: string, labels: Record<string, string>) => {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
};

forEachStore('collector', (open) => {
  test('the two real datagrams over a real unix socket, hostile ones between them, give exactly the expected counters', async () => {
    const store = await open();
    const collector = createCollector({ store, flushMs: 50, log: silentLog, clock: atNoon });
    const sock = path.join(dir, `c${++n}.sock`);
    const source = createDatagramSource({ path: sock, log: silentLog, onOutcome: (o) => void collector.record(o, 'datagram') });
    const acceptedBefore = await metricValue('tlsrpt_events_accepted_total', { source: 'datagram' });
    await collector.start();
    await source.start();
    try {
      for (const d of [REAL1, 'not json', REAL2, '{"dpv":"1","d":"x.test","policies":[{"policy-type":7,"t":0,"f":1}]}', REAL2, REAL1, '\u0000', REAL2]) await send(sock, d);
      await until(() => source.stats().received === 8, 'eight datagrams');
    } finally {
      await source.stop();
      await collector.stop(); // what SIGTERM does: everything in memory is flushed
    }
    assert.deepEqual(await collected(store), EXPECTED);
    assert.equal(await metricValue('tlsrpt_events_accepted_total', { source: 'datagram' }), acceptedBefore + 5);
  });

  test('the same outcomes as JSON over real HTTP give the same counters', async () => {
    const store = await open();
    const collector = createCollector({ store, flushMs: 3_600_000, log: silentLog, clock: atNoon });
    await collector.start();
    const app = createApp({ auth: tokenAuth('test-token-0123456789') });
    app.route('/', eventsRoutes({ collector, store, maxBodyBytes: 1 << 20 }));
    const server = await listen(app, '127.0.0.1', 0);
    try {
      const r = await post(server.port, '/api/v1/events', { events: [JSON1, JSON2, JSON2] }, 'test-token-0123456789');
      assert.deepEqual(r, { status: 200, json: { accepted: 3, dropped: {} } });
      const r2 = await post(server.port, '/api/v1/events', { events: [JSON2, { ...JSON1, 'recipient-domain': 'EXAMPLE.net.' }] }, 'test-token-0123456789');
      assert.equal(r2.status, 200);
      // Acknowledged means durable: both batches are in the journal (no flush has run).
      assert.equal(await journalRows(store), 2);
      await collector.flush();
      assert.equal(await journalRows(store), 0);
      assert.deepEqual(await collected(store), EXPECTED);
      assert.equal(collector.aggregator.pendingEvents, 0);
    } finally {
      await server.close();
      await collector.stop();
    }
  });

  test('stop() stores every outcome recorded without waiting; the library entry does the same', async () => {
    const store = await open();
    const collector = createCollector({ store, flushMs: 3_600_000, log: silentLog, clock: atNoon });
    await collector.start();
    const outcome = { recipientDomain: 'lib.example', policies: [{ policy: { policyType: 'no-policy-found', policyDomain: 'lib.example', policyString: [], mxHost: [] }, failed: true, failureDetails: [{ resultType: 'starttls-not-supported', receivingIp: '203.0.113.9' }] }] };
    for (let i = 0; i < 5000; i++) assert.equal(collector.record(outcome), undefined);
    assert.equal(collector.record({ ...outcome, isReportDelivery: true }), 'report-delivery');
    assert.equal(collector.aggregator.pendingEvents, 5000);
    await collector.stop();
    let [w] = await listOpenWindows(store);
    assert.deepEqual([w.policies[0].failed, w.policies[0].failureDetails[0].failedSessionCount], [5000, 5000]);

    const lib = await openCollector({ store, flushMs: 3_600_000, clock: atNoon });
    lib.record(outcome);
    const summary = await lib.recordJson({ events: [{ 'recipient-domain': 'lib.example', policies: [{ 'policy-type': 'no-policy-found', result: 'failure', 'failure-details': [{ 'result-type': 'starttls-not-supported', 'receiving-ip': '203.0.113.9' }] }] }] });
    assert.deepEqual(summary, { accepted: 1, dropped: {} });
    await lib.close();
    [w] = await listOpenWindows(store);
    assert.deepEqual([w.policies.length, w.policies[0].failed, w.policies[0].failureDetails[0].failedSessionCount], [1, 5002, 5002]);
  });

  test('flushEvents triggers a flush before the interval', async () => {
    const store = await open();
    const collector = createCollector({ store, flushMs: 3_600_000, flushEvents: 100, log: silentLog, clock: atNoon });
    await collector.start();
    try {
      const o = { recipientDomain: 'n.example', policies: [{ policy: { policyType: 'no-policy-found', policyDomain: 'n.example', policyString: [], mxHost: [] }, failed: false, failureDetails: [] }] };
      for (let i = 0; i < 150; i++) collector.record(o);
      await until(() => collector.aggregator.pendingEvents < 100, 'a threshold flush');
      const deadline = Date.now() + 5000;
      let stored = 0;
      while (Date.now() < deadline && stored < 100) {
        stored = (await listOpenWindows(store))[0]?.policies[0]?.successful ?? 0;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(stored >= 100, `stored ${stored}`);
    } finally {
      await collector.stop();
    }
  });
});

forEachStore('collector journal recovery', (open) => {
  const batch = (code: string) => [{ recipientDomain: 'j.example', policies: [{ policy: { policyType: 'no-policy-found', policyDomain: 'j.example', policyString: [], mxHost: [] }, failed: true, failureDetails: [{ resultType: 'starttls-not-supported', failureReasonCode: code }] }] }];
  test('a live instance keeps its journal rows; a dead one is replayed once, into the windows of its arrival time', async () => {
    const store = await open();
    let now = Date.parse('2026-11-27T23:30:00Z');
    const a = createCollector({ store, flushMs: 3_600_000, log: silentLog, clock: () => now });
    await a.start();
    await a.recordDurable(batch('a1'));
    await a.recordDurable(batch('a2'));
    now = Date.parse('2026-11-28T00:30:00Z');
    const b = createCollector({ store, flushMs: 3_600_000, log: silentLog, clock: () => now });
    await b.start();
    assert.equal(await journalRows(store), 2, 'a is alive (fresh heartbeat, running pid): b leaves its rows');
    assert.deepEqual(await listOpenWindows(store), []);
    // a dies without flushing: its heartbeat goes stale.
    await store.db.updateTable('outbound_collector').set({ heartbeat_at: 1 }).execute();
    const c = createCollector({ store, flushMs: 3_600_000, log: silentLog, clock: () => now });
    await c.start();
    assert.equal(await journalRows(store), 0);
    const [w] = await listOpenWindows(store);
    assert.equal(new Date(w.windowStart * 1000).toISOString(), '2026-11-27T00:00:00.000Z', 'counted into the day the events arrived');
    assert.deepEqual(w.policies[0].failureDetails.map((d) => [d.failureReasonCode, d.failedSessionCount]).sort(), [['a1', 1], ['a2', 1]]);
    // Stopping b and c adds nothing more (a is "dead" and never flushes; see journal.ts on stale heartbeats).
    await b.stop();
    await c.stop();
    const [again] = await listOpenWindows(store);
    assert.equal(again.policies[0].failed, 2);
  });
});

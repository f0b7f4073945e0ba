/**
 * @module test/sending/events-http — `POST /api/v1/events`, `GET /api/v1/outbound/windows` and
 * `GET /metrics` over real HTTP on both stores: auth, all-or-nothing validation with the bad
 * field's path, acknowledgement only after commit, loop safety, size limit, group commit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { forEachStore } from '../support/stores.js';
import { silentLog } from '../../src/common/log.js';
import { createApp } from '../../src/http/app.js';
import { tokenAuth } from '../../src/http/auth.js';
import { listen } from '../../src/http/server.js';
import { eventsRoutes } from '../../src/http/routes/events.js';
import { metricsRoutes } from '../../src/http/routes/metrics.js';
import { createCollector } from '../../src/sending/collect/collector.js';
import { listOpenWindows } from '../../src/analysis/outbound-windows.js';
import type { Store } from '../../src/store/index.js';

const TOKEN = 'events-token-0123456789';

function call(port: number, method: string, path: string, body?: string | Buffer, token: string | null = TOKEN): Promise<{ status: number; text: string; json: any }> {
  const data = body === undefined ? undefined : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, text, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function serve(store: Store, opts: { maxBodyBytes?: number } = {}) {
  // An hour-long flush interval: whatever is in the store after a 200 was written for that request.
  // A fixed instant: near 00:00 UTC the wall clock would split one test's events over two windows.
  const collector = createCollector({ store, flushMs: 3_600_000, log: silentLog, clock: () => Date.UTC(2026, 10, 27, 12) });
  await collector.start();
  const app = createApp({ auth: tokenAuth(TOKEN) });
  app.route('/', eventsRoutes({ collector, store, maxBodyBytes: opts.maxBodyBytes ?? 1 << 20 }));
  app.route('/', metricsRoutes({ auth: tokenAuth(TOKEN) }));
  const server = await listen(app, '127.0.0.1', 0);
  return {
    port: server.port,
    collector,
    close: async () => {
      await server.close();
      await collector.stop();
    },
  };
}

const event = (domain: string, result: 'success' | 'failure' = 'success', extra: Record<string, unknown> = {}) => ({
  'recipient-domain': domain,
  'tlsrpt-record': `v=TLSRPTv1; rua=mailto:tlsrpt@${domain}`,
  policies: [{ 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: testing', `mx: mx.${domain}`, 'max_age: 86400'], 'mx-host': [`mx.${domain}`], result, ...(result === 'failure' ? { 'failure-details': [{ 'result-type': 'certificate-not-trusted', 'receiving-ip': '198.51.100.7' }] } : {}), ...extra }],
});

const totals = async (store: Store) => {
  const ws = await listOpenWindows(store);
  return { windows: ws.length, ok: ws.reduce((n, w) => n + w.policies.reduce((m, p) => m + p.successful, 0), 0), failed: ws.reduce((n, w) => n + w.policies.reduce((m, p) => m + p.failed, 0), 0) };
};

forEachStore('events over HTTP', (open) => {
  test('needs the admin token for events, windows and metrics', async () => {
    const store = await open();
    const s = await serve(store);
    try {
      for (const [method, path] of [['POST', '/api/v1/events'], ['GET', '/api/v1/outbound/windows'], ['GET', '/metrics']]) {
        const body = method === 'POST' ? JSON.stringify({ events: [event('a.example')] }) : undefined;
        assert.equal((await call(s.port, method, path, body, null)).status, 401, `${path} without a token`);
        assert.equal((await call(s.port, method, path, body, 'wrong-token-0123456789')).status, 401, `${path} with a wrong token`);
      }
      assert.deepEqual(await totals(store), { windows: 0, ok: 0, failed: 0 });
    } finally {
      await s.close();
    }
  });

  test('a bad batch is refused whole with the path of the bad field; nothing of it is stored', async () => {
    const store = await open();
    const s = await serve(store);
    try {
      const cases: [unknown, string, string][] = [
        [{ events: [event('a.example'), event('b.example', 'failure', { 'failure-details': [{ 'result-type': 'certificate-exploded' }] })] }, 'events[1].policies[0].failure-details[0].result-type', 'invalid-event'],
        [{ events: [event('a.example'), { ...event('b.example'), policies: [{ ...event('b.example').policies[0], result: 'ok' }] }] }, 'events[1].policies[0].result', 'invalid-event'],
        [{ events: [{ ...event('a.example'), 'recipient-domain': 'not a domain' }] }, 'events[0].recipient-domain', 'invalid-event'],
        [{ events: [{ ...event('a.example'), recipient: 'x' }] }, 'events[0]', 'invalid-event'],
        [{ events: [{ ...event('a.example'), policies: [] }] }, 'events[0].policies', 'invalid-event'],
        [{ events: [event('a.example', 'failure', { 'failure-details': [{ 'result-type': 'validation-failure', 'sending-mta-ip': '300.1.1.1' }] })] }, 'events[0].policies[0].failure-details[0].sending-mta-ip', 'invalid-event'],
        [[event('a.example')], '', 'invalid-event'],
      ];
      for (const [body, path, code] of cases) {
        const r = await call(s.port, 'POST', '/api/v1/events', JSON.stringify(body));
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json.error.code, code);
        assert.equal(r.json.error.path, path, r.text);
        assert.ok(r.json.error.message.length > 5);
      }
      const r = await call(s.port, 'POST', '/api/v1/events', '{"events": [');
      assert.deepEqual([r.status, r.json.error.code], [400, 'invalid-json']);
      assert.equal(s.collector.aggregator.pendingEvents, 0);
      await s.collector.flush();
      assert.deepEqual(await totals(store), { windows: 0, ok: 0, failed: 0 });
    } finally {
      await s.close();
    }
  });

  test('200 only once durable (journal); report deliveries are acknowledged but not counted (RFC 8460 §5.3)', async () => {
    const store = await open();
    const s = await serve(store);
    try {
      const r = await call(s.port, 'POST', '/api/v1/events', JSON.stringify({ events: [event('a.example'), event('a.example', 'failure'), { ...event('b.example'), 'is-report-delivery': true }] }));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { accepted: 2, dropped: { 'report-delivery': 1 } });
      // Durable before the answer: the batch is in the journal; the next flush moves it to the counters.
      const journal = await store.db.selectFrom('outbound_journal').select(['format', 'body']).execute();
      assert.equal(journal.length, 1);
      assert.equal(JSON.parse(journal[0].body).events.length, 3);
      await s.collector.flush();
      assert.deepEqual(await totals(store), { windows: 1, ok: 1, failed: 1 });
      assert.equal((await store.db.selectFrom('outbound_journal').selectAll().execute()).length, 0);
      const empty = await call(s.port, 'POST', '/api/v1/events', JSON.stringify({ events: [] }));
      assert.deepEqual([empty.status, empty.json], [200, { accepted: 0, dropped: {} }]);
    } finally {
      await s.close();
    }
  });

  test('a body over http.maxBodyBytes is refused with 413', async () => {
    const store = await open();
    const s = await serve(store, { maxBodyBytes: 2000 });
    try {
      const body = JSON.stringify({ events: Array.from({ length: 20 }, (_, i) => event(`d${i}.example`)) });
      assert.ok(body.length > 2000);
      const r = await call(s.port, 'POST', '/api/v1/events', body);
      assert.deepEqual([r.status, r.json.error.code], [413, 'too-large']);
      assert.deepEqual(await totals(store), { windows: 0, ok: 0, failed: 0 });
    } finally {
      await s.close();
    }
  });

  test('concurrent batches are all stored (group commit); the windows API and metrics show them', async () => {
    const store = await open();
    const s = await serve(store);
    try {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, c) =>
        call(s.port, 'POST', '/api/v1/events', JSON.stringify({ events: Array.from({ length: 100 }, (_, i) => event(`d${(c * 100 + i) % 50}.example`, i % 3 === 0 ? 'failure' : 'success')) }))));
      assert.deepEqual(rs.map((r) => r.status), Array(20).fill(200));
      await s.collector.flush();
      assert.deepEqual(await totals(store), { windows: 50, ok: 1320, failed: 680 });
      const w = await call(s.port, 'GET', '/api/v1/outbound/windows?domain=D7.example.');
      assert.equal(w.status, 200);
      assert.equal(w.json.windows.length, 1);
      const [win] = w.json.windows;
      assert.equal(win.reportDomain, 'd7.example');
      assert.equal(win.windowStart, '2026-11-27T00:00:00Z');
      assert.deepEqual(win.policies[0].summary, { 'total-successful-session-count': 20, 'total-failure-session-count': 20 });
      assert.deepEqual(win.policies[0]['failure-details'], [{ 'result-type': 'certificate-not-trusted', 'receiving-ip': '198.51.100.7', 'failed-session-count': 20 }]);
      assert.deepEqual(win.policies[0].policy['mx-host'], ['mx.d7.example']);
      const m = await call(s.port, 'GET', '/metrics');
      assert.equal(m.status, 200);
      assert.match(m.text, /^tlsrpt_events_accepted_total\{source="http"\} \d+/m);
      assert.match(m.text, /^tlsrpt_collector_flush_seconds_count \d+/m);
      assert.match(m.text, /^tlsrpt_collector_open_windows \d+/m);
      assert.match(m.text, /^process_resident_memory_bytes \d+/m);
    } finally {
      await s.close();
    }
  });
});

/**
 * The public report endpoint (RFC 8460 §5.4) served for real over HTTPS (test CA) on loopback:
 * gzip and JSON bodies (sniffed), 201 for a new report and for a duplicate, 400 with a reason
 * for non-reports, 413 by Content-Length and by counted bytes of a chunked body, 429 per
 * client (peer address, or X-Forwarded-For only when trusted), 503 when the store fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createApp } from '../../src/http/app.js';
import { listen, type ListeningServer } from '../../src/http/server.js';
import { reportEndpoint } from '../../src/http/routes/report-endpoint.js';
import { createIngestor, type Ingestor } from '../../src/receiving/pipeline/ingest.js';
import { silentLog } from '../../src/common/log.js';
import { forEachStore } from '../support/stores.js';
import { testCa } from '../support/https-server.js';
import type { Store } from '../../src/store/index.js';
import { post, postWithDeclaredLength } from './support/http-client.js';
import { makeReport, readFixture } from './support/reports.js';

const ca = testCa();
let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-endpoint-'));
  writeFileSync(path.join(dir, 'cert.pem'), ca.certPem);
  writeFileSync(path.join(dir, 'key.pem'), ca.keyPem);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** As `serve` runs it: the routes, and their gate in front of the app. `reached()`: requests the app saw. */
async function serve(ingestor: Ingestor, o: { maxBodyBytes?: number; ratePerMinute?: number; trustProxy?: boolean; tls?: boolean } = {}): Promise<ListeningServer & { url: string; reached(): number }> {
  const app = createApp();
  let reached = 0;
  app.use('/tlsrpt', async (_c, next) => { reached++; await next(); });
  const endpoint = reportEndpoint({ ingestor, log: silentLog, path: '/tlsrpt', maxBodyBytes: o.maxBodyBytes ?? 1_000_000, ratePerMinute: o.ratePerMinute ?? 6000, trustProxy: o.trustProxy });
  app.route('/', endpoint.routes);
  const tls = o.tls === false ? undefined : { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  const s = await listen(app, '127.0.0.1', 0, tls, { gate: endpoint.gate });
  return Object.assign(s, { url: `${tls ? 'https' : 'http'}://localhost:${s.port}/tlsrpt`, reached: () => reached });
}

const count = async (store: Store) => Number((await store.db.selectFrom('inbound_report').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

forEachStore('report endpoint over HTTPS', (open) => {
  it('stores a gzip report (201), a JSON report (201), and answers 201 "duplicate" for a repeat', async () => {
    const store = await open();
    const server = await serve(createIngestor({ store, log: silentLog }));
    try {
      const gz = await post(server.url, gzipSync(readFixture('dmarc-report-viewer__google.json')), { ca: ca.caPem });
      assert.equal(gz.status, 201, JSON.stringify(gz.body));
      assert.equal(gz.body.reports[0].status, 'imported');
      assert.equal(typeof gz.body.reports[0].id, 'number');
      // Content-Type says gzip, the body is JSON: sniffed, not trusted.
      const json = await post(server.url, readFixture('parsedmarc__mail.ru.json'), { ca: ca.caPem });
      assert.equal(json.status, 201);
      const again = await post(server.url, readFixture('dmarc-report-viewer__google.json'), { ca: ca.caPem, headers: { 'content-type': 'application/tlsrpt+json' } });
      assert.equal(again.status, 201);
      assert.equal(again.body.reports[0].status, 'duplicate');
      assert.equal(again.body.reports[0].id, gz.body.reports[0].id);
      assert.equal(await count(store), 2);
    } finally {
      await server.close();
    }
  });

  it('answers 400 with a reason for what is not a report, and stays up', async () => {
    const store = await open();
    const server = await serve(createIngestor({ store, log: silentLog }));
    try {
      for (const body of [gzipSync('not a report\n'), Buffer.from('{"feedback": {"report_metadata": {}}}'), Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]), Buffer.from('{"policies": [' + '['.repeat(5000) + ']'.repeat(5000) + ']}')]) {
        const r = await post(server.url, body, { ca: ca.caPem });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.accepted, false);
        assert.ok(r.body.error.message.length > 10, r.body.error.message);
      }
      const empty = await post(server.url, Buffer.alloc(0), { ca: ca.caPem });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.error.code, 'empty-body');
      const ok = await post(server.url, gzipSync(readFixture('parsedmarc__smtp_tls.json')), { ca: ca.caPem });
      assert.equal(ok.status, 201);
      assert.equal(await count(store), 1);
    } finally {
      await server.close();
    }
  });

  it('answers 413 by Content-Length, by counted chunked bytes, and for a gzip bomb; then still serves', async () => {
    const store = await open();
    const server = await serve(createIngestor({ store, log: silentLog, limits: () => ({ maxDecompressedBytes: 2_000_000 }) }), { maxBodyBytes: 100_000, tls: false });
    try {
      assert.equal(await postWithDeclaredLength(server.port, '/tlsrpt', 5_000_000), 413);
      const chunked = await post(server.url, Array.from({ length: 30 }, () => Buffer.alloc(10_000, 0x20)), { chunked: true });
      assert.equal(chunked.status, 413);
      const bomb = gzipSync(Buffer.alloc(50_000_000, 0x20), { level: 9 });
      assert.ok(bomb.length < 100_000);
      const b = await post(server.url, bomb);
      assert.equal(b.status, 413, JSON.stringify(b.body));
      assert.match(b.body.error.code, /decompressed-too-large|compression-ratio/);
      const ok = await post(server.url, gzipSync(readFixture('parsedmarc__smtp_tls.json')));
      assert.equal(ok.status, 201);
    } finally {
      await server.close();
    }
  });

  it('answers 503 (retry) when the store cannot take the report', async () => {
    const store = await open();
    const ingestor = createIngestor({ store, log: silentLog, save: async () => { throw new Error('database is locked'); } });
    const server = await serve(ingestor, { tls: false });
    try {
      const r = await post(server.url, readFixture('parsedmarc__smtp_tls.json'));
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '60');
    } finally {
      await server.close();
    }
  });
});

describe('report endpoint limits without a store', () => {
  const ingestor: Ingestor = { ingest: async () => [{ status: 'imported', id: 1, reportId: 'r' }] };

  it('answers 429 with Retry-After when one client sends too fast; other methods get 405', async () => {
    const server = await serve(ingestor, { ratePerMinute: 6, tls: false }); // burst of 5
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await post(server.url, Buffer.from(makeReport({ submitter: 's.example', policyDomain: 'example.org' })))).status);
      assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429, 429]);
      const limited = await post(server.url, Buffer.from('{}'));
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      assert.equal(limited.body.error.code, 'rate-limited');
      assert.match(limited.body.error.message, /too many reports from 127\.0\.0\.1; retry in \d+ s/);
      // Refused by the gate from Node's request: the app (and its request objects) never saw them.
      assert.equal(server.reached(), 5);
      // Without trustProxy a client cannot escape its bucket with a made-up X-Forwarded-For.
      assert.equal((await post(server.url, Buffer.from('{}'), { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 429);
      const get = await post(server.url, Buffer.alloc(0), { method: 'GET', headers: {} });
      assert.equal(get.status, 405);
      // The connection outlives a refusal with a body (Node drops the unread body): the next request is answered.
      assert.equal((await post(server.url, Buffer.alloc(200_000, 0x20))).status, 429);
    } finally {
      await server.close();
    }
  });

  it('keys clients by the proxy-appended X-Forwarded-For entry when http.trustProxy', async () => {
    const server = await serve(ingestor, { ratePerMinute: 6, trustProxy: true, tls: false });
    try {
      const send = (xff: string) => post(server.url, Buffer.from('{}'), { headers: { 'x-forwarded-for': xff } }).then((r) => r.status);
      for (let i = 0; i < 5; i++) assert.equal(await send('198.51.100.1'), 201);
      assert.equal(await send('198.51.100.1'), 429);
      assert.equal(await send('198.51.100.2'), 201, 'another client behind the proxy');
      assert.equal(await send('1.1.1.1, 198.51.100.1'), 429, 'a spoofed left-most entry does not help');
    } finally {
      await server.close();
    }
  });
});

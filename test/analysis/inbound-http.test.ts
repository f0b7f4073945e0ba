/** @module test/analysis/inbound-http — the inbound query API: JSON, CSV (safe cells), errors; on both databases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Hono } from 'hono';
import { forEachStore } from '../support/stores.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { saveInboundReport } from '../../src/receiving/persist/inbound-store.js';
import { inboundRoutes } from '../../src/http/routes/inbound.js';
import { csvCell, toCsv } from '../../src/analysis/csv.js';

const FIX = path.resolve('test/fixtures/reports');

test('CSV cells: quoting and formula injection', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('=HYPERLINK("http://evil")'), `"'=HYPERLINK(""http://evil"")"`);
  for (const lead of ['+', '-', '@', '\t', '\r']) assert.ok(csvCell(`${lead}1`).replace(/^"/, '').startsWith(`'${lead}`), JSON.stringify(lead));
  assert.equal(csvCell(-5), '-5');
  assert.equal(csvCell(null), '');
  assert.equal(toCsv(['a', 'b'], [{ a: 1, b: 'x\ny' }]), 'a,b\r\n1,"x\ny"\r\n');
});

forEachStore('inbound HTTP API', (open) => {
  async function setup() {
    const store = await open();
    const ids: number[] = [];
    for (const f of ['parsedmarc__mail.ru.json', 'dmarc-report-viewer__rfc-example.json', 'dmarc-report-viewer__google.json']) {
      const raw = readFileSync(path.join(FIX, f));
      const { report, findings } = parseReport(raw);
      ids.push((await saveInboundReport(store, { raw, report, findings, channel: 'http', receivedAt: 1_790_000_000 })).id);
    }
    // A hostile organization-name: must reach a spreadsheet as text, not as a formula.
    const { report, findings } = parseReport(readFileSync(path.join(FIX, 'parsedmarc__mail.ru.json')));
    const evil = { ...report, organizationName: '=cmd|"/c calc"!A1', contactInfo: 'x@evil.example', reportId: 'evil-1' };
    ids.push((await saveInboundReport(store, { raw: Buffer.from('{}'), report: evil, findings, channel: 'http', receivedAt: 1_790_000_000 })).id);
    const app = new Hono();
    app.route('/', inboundRoutes({ store }));
    return { app, ids };
  }

  test('GET /reports with filters and paging, as JSON and CSV', async () => {
    const { app } = await setup();
    const res = await app.request('/api/v1/inbound/reports?domain=EXAMPLE.com&hasFailures=true&limit=1');
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.total, 2);
    assert.equal(body.reports.length, 1);
    assert.ok(body.reports[0].policyDomains.includes('example.com'));
    const csv = await app.request('/api/v1/inbound/reports?format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    assert.equal(lines.length, 5);
    assert.match(lines[0], /^id,day,startDatetime,/);
    assert.ok(lines.some((l) => l.includes(`"'=cmd|""/c calc""!A1"`)), lines.join('\n'));
    assert.ok(!lines.some((l) => /(^|,)=/.test(l)));
    const viaAccept = await app.request('/api/v1/inbound/reports', { headers: { accept: 'text/csv' } });
    assert.match(viaAccept.headers.get('content-type') ?? '', /^text\/csv/);
  });

  test('GET /reports/{id}: JSON with raw bytes, CSV per failure detail, 404', async () => {
    const { app, ids } = await setup();
    const res = await app.request(`/api/v1/inbound/reports/${ids[0]}`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.reportId, 'b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru');
    assert.deepEqual(Buffer.from(body.raw, 'base64'), readFileSync(path.join(FIX, 'parsedmarc__mail.ru.json')));
    assert.equal(body.dkim.result, 'none');
    assert.ok(Array.isArray(body.findings));
    const csv = await (await app.request(`/api/v1/inbound/reports/${ids[0]}?format=csv`)).text();
    assert.equal(csv.trimEnd().split('\r\n').length, 3); // header + two failure details
    assert.equal((await app.request('/api/v1/inbound/reports/424242')).status, 404);
    assert.equal((await app.request('/api/v1/inbound/reports/abc')).status, 404);
  });

  test('GET /summary: rows, filters, CSV breakdowns, bad filters answer 400', async () => {
    const { app } = await setup();
    const body = await (await app.request('/api/v1/inbound/summary?domain=example.com&from=2024-02-22&to=2024-02-22')).json();
    assert.deepEqual(body.rows.map((r: any) => [r.policyDomain, r.day, r.policyType, r.successful, r.failed]), [
      ['example.com', '2024-02-22', 'sts', 0, 1],
      ['example.com', '2024-02-22', 'sts', 0, 1],
    ]);
    assert.deepEqual(body.rows.map((r: any) => r.reporter).sort(), ['evil.example', 'mail.ru']);
    const csv = await (await app.request('/api/v1/inbound/summary?format=csv&breakdown=result-type')).text();
    assert.match(csv, /^policyDomain,day,resultType,failed\r\n/);
    assert.match(csv, /company-y\.example,2016-04-01,starttls-not-supported,200/);
    const bad = await app.request('/api/v1/inbound/summary?from=2024-02-31');
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, 'bad-filter');
    assert.equal((await app.request('/api/v1/inbound/reports?limit=0')).status, 400);
    assert.equal((await app.request('/api/v1/inbound/summary?breakdown=nope')).status, 400);
  });
});

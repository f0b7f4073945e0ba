/**
 * @module test/analysis/export — parsedmarc-shaped exports: the JSON object against parsedmarc's
 * documented output (docs/source/output.md, "JSON SMTP TLS report") for the same report, its CSV
 * rows, and the streamed export over a store on both databases (exact totals, paging, filters, HTTP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Hono } from 'hono';
import { forEachStore } from '../support/stores.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { saveInboundReport } from '../../src/receiving/persist/inbound-store.js';
import { parsedmarcCsvRows, toParsedmarc } from '../../src/analysis/parsedmarc.js';
import { exportInbound, exportedReports } from '../../src/analysis/export.js';
import { inboundRoutes } from '../../src/http/routes/inbound.js';

const FIX = path.resolve('test/fixtures/reports');
const parse = (f: string) => parseReport(readFileSync(path.join(FIX, f))).report;

// parsedmarc's documented output for samples/smtp_tls/smtp_tls.json (our parsedmarc__smtp_tls.json),
// with contact_info where parse_smtp_tls_report_json puts it (the docs' sample predates that key).
const PARSEDMARC_DOC = {
  organization_name: 'Example Inc.',
  begin_date: '2024-01-09T00:00:00Z',
  end_date: '2024-01-09T23:59:59Z',
  contact_info: 'smtp-tls-reporting@example.com',
  report_id: '2024-01-09T00:00:00Z_example.com',
  policies: [{
    policy_domain: 'example.com',
    policy_type: 'sts',
    policy_strings: ['version: STSv1', 'mode: testing', 'mx: example.com', 'max_age: 86400'],
    successful_session_count: 0,
    failed_session_count: 3,
    failure_details: [
      { result_type: 'validation-failure', failed_session_count: 2, sending_mta_ip: '209.85.222.201', receiving_ip: '173.212.201.41', receiving_mx_hostname: 'example.com' },
      { result_type: 'validation-failure', failed_session_count: 1, sending_mta_ip: '209.85.208.176', receiving_ip: '173.212.201.41', receiving_mx_hostname: 'example.com' },
    ],
  }],
};

test("parsedmarc JSON: the documented output, key for key and in parsedmarc's key order", () => {
  const got = toParsedmarc(parse('parsedmarc__smtp_tls.json'));
  assert.equal(JSON.stringify(got), JSON.stringify(PARSEDMARC_DOC));
});

test('parsedmarc JSON: mx_host_patterns, additional_info_uri, failure_reason_code; no failure_details key when none', () => {
  const rfc = toParsedmarc(parse('parsedmarc__rfc8460.json'));
  assert.deepEqual(rfc.policies[0].mx_host_patterns, ['*.mail.company-y.example']);
  assert.equal(rfc.policies[0].failure_details![1].additional_info_uri, 'https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported');
  assert.equal(rfc.policies[0].failure_details![2].failure_reason_code, 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED');
  const google = toParsedmarc(parse('dmarc-report-viewer__google.json'));
  assert.equal('failure_details' in google.policies[0], false);
  const noPolicy = toParsedmarc(parse('dmarc-report-viewer__no-policy.json'));
  assert.equal('policy_strings' in noPolicy.policies[0], false);
});

test("parsedmarc CSV rows: a summary row per policy, then one row per failure detail without policy_domain (parsedmarc's layout)", () => {
  const rows = parsedmarcCsvRows(toParsedmarc(parse('parsedmarc__smtp_tls.json')));
  const common = { organization_name: 'Example Inc.', begin_date: '2024-01-09T00:00:00Z', end_date: '2024-01-09T23:59:59Z', report_id: '2024-01-09T00:00:00Z_example.com', policy_strings: 'version: STSv1|mode: testing|mx: example.com|max_age: 86400' };
  assert.deepEqual(rows, [
    { ...common, policy_domain: 'example.com', policy_type: 'sts', successful_session_count: 0, failed_session_count: 3 },
    { ...common, result_type: 'validation-failure', failed_session_count: 2, sending_mta_ip: '209.85.222.201', receiving_ip: '173.212.201.41', receiving_mx_hostname: 'example.com' },
    { ...common, result_type: 'validation-failure', failed_session_count: 1, sending_mta_ip: '209.85.208.176', receiving_ip: '173.212.201.41', receiving_mx_hostname: 'example.com' },
  ]);
});

const DISTINCT = readdirSync(FIX).filter((f) => f.endsWith('.json') && !['stalwart-mail-auth__rpt01.json', 'dmarc-report-viewer__rfc-example.json'].includes(f));

forEachStore('streamed export', (open) => {
  async function filled() {
    const store = await open();
    let want = [0, 0];
    for (const f of DISTINCT) {
      const raw = readFileSync(path.join(FIX, f));
      const { report, findings } = parseReport(raw);
      for (const p of report.policies) want = [want[0] + p.summary.totalSuccessfulSessionCount, want[1] + p.summary.totalFailureSessionCount];
      await saveInboundReport(store, { raw, report, findings, channel: 'file', receivedAt: 1_790_000_000 });
    }
    return { store, want };
  }
  const collect = async (it: AsyncIterable<string>) => { let s = ''; for await (const c of it) s += c; return s; };

  test('parsedmarc-json: one array, every report once, exact session totals; pages of 2 give the same document', async () => {
    const { store, want } = await filled();
    // Python's own json over the same files (acceptance/expect.py) sums to these.
    assert.deepEqual(want, [5358, 312]);
    const docs = JSON.parse(await collect(exportInbound(store, 'parsedmarc-json')));
    assert.equal(docs.length, DISTINCT.length);
    let got = [0, 0];
    for (const d of docs) for (const p of d.policies) got = [got[0] + p.successful_session_count, got[1] + p.failed_session_count];
    assert.deepEqual(got, want);
    const starts = docs.map((d: any) => d.begin_date);
    assert.deepEqual(starts, [...starts].sort(), 'oldest first');
    const paged: string[] = [];
    for await (const r of exportedReports(store, {}, 2)) paged.push(r.reportId);
    assert.deepEqual(paged, docs.map((d: any) => d.report_id));
  });

  test('filters, ndjson and CSV; an empty export is still valid JSON', async () => {
    const { store } = await filled();
    const lines = (await collect(exportInbound(store, 'ndjson', { domain: 'example.com' }))).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((d) => d.report_id).sort(), ['2020-01-01T00:00:00Z_example.com', '2024-01-09T00:00:00Z_example.com', '2024-06-01T00:00:00Z_example.com', 'b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru']);
    const csv = await collect(exportInbound(store, 'parsedmarc-csv', { resultType: 'certificate-expired' }));
    const rows = csv.trimEnd().split('\r\n');
    assert.equal(rows[0], 'organization_name,begin_date,end_date,report_id,result_type,successful_session_count,failed_session_count,policy_domain,policy_type,policy_strings,mx_host_patterns,sending_mta_ip,receiving_ip,receiving_mx_hostname,receiving_mx_helo,additional_info_uri,failure_reason_code');
    assert.equal(rows.length, 1 + 1 + 3, 'one summary row and three failure rows of the RFC example');
    assert.equal(rows[1], 'Company-X,2016-04-01T00:00:00Z,2016-04-01T23:59:59Z,5065427c-23d3-47ca-b6e0-946ea0e8c4be,,5326,303,company-y.example,sts,version: STSv1|mode: testing|mx: *.mail.company-y.example|max_age: 86400,*.mail.company-y.example,,,,,,');
    assert.deepEqual(JSON.parse(await collect(exportInbound(store, 'parsedmarc-json', { domain: 'nobody.example' }))), []);
  });

  test('GET /api/v1/inbound/export streams with the right type; a bad format is a 400 naming the choices', async () => {
    const { store, want } = await filled();
    const app = new Hono();
    app.route('/', inboundRoutes({ store }));
    const res = await app.request('/api/v1/inbound/export?format=parsedmarc-json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    assert.match(res.headers.get('content-disposition')!, /smtp_tls\.json/);
    const docs = await res.json();
    const failed = docs.flatMap((d: any) => d.policies).reduce((a: number, p: any) => a + p.failed_session_count, 0);
    assert.equal(failed, want[1]);
    const csv = await app.request('/api/v1/inbound/export?format=parsedmarc-csv&domain=company-y.example');
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.equal((await csv.text()).trimEnd().split('\r\n').length, 5);
    const bad = await app.request('/api/v1/inbound/export?format=xml');
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /parsedmarc-json, parsedmarc-csv, ndjson/);
  });
});

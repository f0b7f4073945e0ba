/** @module test/receiving/inbound-store — storing received reports once, on both databases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { forEachStore, reopen } from '../support/stores.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import type { TlsReport } from '../../src/rfc8460/types.js';
import { saveInboundReport, dedupKeys, type InboundReportInput } from '../../src/receiving/persist/inbound-store.js';
import { reporterOf, organizationalDomain } from '../../src/identity/org-domain.js';
import { getInboundReport, listInboundReports } from '../../src/analysis/inbound-reports.js';
import { exportedReports } from '../../src/analysis/export.js';
import { gzipSync } from 'node:zlib';

const execFileAsync = promisify(execFile);
const FIX = path.resolve('test/fixtures/reports');
const jsonFixtures = readdirSync(FIX).filter((f) => f.endsWith('.json')).sort();

function input(file: string, over: Partial<InboundReportInput> = {}): InboundReportInput {
  const raw = readFileSync(path.join(FIX, file));
  const { report, findings } = parseReport(raw);
  return { raw, report, findings, channel: 'http', peer: '192.0.2.1', receivedAt: 1_700_000_000, ...over };
}

function regenerated(i: InboundReportInput, reportId: string): InboundReportInput {
  const report: TlsReport = { ...i.report, reportId };
  return { ...i, report, raw: Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(i.raw).toString()), 'report-id': reportId })) };
}

test('reporter: organisational domain of contact-info, else organization-name', () => {
  assert.equal(organizationalDomain('tls_support.corp.mail.ru'), 'mail.ru');
  assert.equal(organizationalDomain('mx.example.co.uk.'), 'example.co.uk');
  assert.equal(reporterOf({ contactInfo: 'tls_support@corp.mail.ru', organizationName: 'Mail.ru' }), 'mail.ru');
  assert.equal(reporterOf({ contactInfo: 'https://reports.example.com/tls', organizationName: 'X' }), 'example.com');
  assert.equal(reporterOf({ contactInfo: undefined, organizationName: ' Example Org ' }), 'example org');
});

forEachStore('inbound store', (open) => {
  test('every fixture is stored once with its policies, failure details and findings', async () => {
    const store = await open();
    for (const f of jsonFixtures) {
      const i = input(f);
      const first = await saveInboundReport(store, i);
      const again = await saveInboundReport(store, { ...i, channel: 'smtp', peer: '198.51.100.7' });
      // Some fixtures are copies of one report (RFC example in two projects): a duplicate of an earlier one is fine.
      assert.equal(again.status, 'duplicate', f);
      assert.equal(again.id, first.id, f);
      assert.equal(again.duplicate, true);
      const policies = await store.db.selectFrom('inbound_policy').selectAll().where('report_ref', '=', first.id).execute();
      if (first.status === 'stored') {
        assert.equal(policies.length, i.report.policies.length, f);
        const details = await store.db.selectFrom('inbound_failure').select('failed_session_count').where('report_ref', '=', first.id).execute();
        assert.equal(details.length, i.report.policies.reduce((n, p) => n + p.failureDetails.length, 0), f);
        const findings = await store.db.selectFrom('inbound_finding').select('code').where('report_ref', '=', first.id).execute();
        assert.deepEqual(findings.map((x) => x.code), i.findings.map((x) => x.code), f);
      }
    }
    const n = await store.db.selectFrom('inbound_report').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const distinct = new Set(jsonFixtures.map((f) => { const k = dedupKeys(input(f).report, 0); return `${k.reporter} ${k.reportId}`; }));
    assert.equal(n.n, distinct.size);
  });

  test('a re-generated copy (new report-id, same content) is a duplicate; different content is not', async () => {
    const store = await open();
    const i = input('parsedmarc__mail.ru.json');
    const first = await saveInboundReport(store, i);
    assert.equal(first.status, 'stored');
    const copy = await saveInboundReport(store, regenerated(i, 'another-id@mail.ru'));
    assert.deepEqual(copy, { status: 'duplicate', id: first.id, duplicate: true });
    const changed = structuredClone(i.report);
    changed.reportId = 'third-id@mail.ru';
    changed.policies[0].summary.totalSuccessfulSessionCount += 1;
    const other = await saveInboundReport(store, { ...i, report: changed });
    assert.equal(other.status, 'stored');
  });

  test('the same report-id from another reporter is a different report', async () => {
    const store = await open();
    const i = input('parsedmarc__mail.ru.json');
    await saveInboundReport(store, i);
    const report = { ...i.report, contactInfo: 'tlsrpt@other.example', organizationName: 'Other' };
    const r = await saveInboundReport(store, { ...i, report });
    assert.equal(r.status, 'stored');
  });

  test('concurrent saves of one report on one store (and, on PostgreSQL, several connections) store it once', async () => {
    const store = await open();
    const i = input('dmarc-report-viewer__google.json');
    // better-sqlite3 waits for a lock synchronously, so several SQLite connections in ONE process
    // would block each other; across processes see the next test.
    const others = store.kind === 'postgres' ? await Promise.all([reopen(store), reopen(store), reopen(store)]) : [];
    try {
      const results = await Promise.all([store, ...others, store, ...others, store].map((s, n) => saveInboundReport(s, { ...i, channel: n % 2 ? 'smtp' : 'http' })));
      assert.equal(results.filter((r) => r.status === 'stored').length, 1);
      assert.equal(new Set(results.map((r) => r.id)).size, 1);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
    const rows = await store.db.selectFrom('inbound_policy').select('id').execute();
    assert.equal(rows.length, i.report.policies.length);
  });

  test('several processes saving the same report at once store it once', async () => {
    const store = await open();
    const src = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
    const script = `import { openStore } from ${src('../../src/store/index.ts')};
      import { parseReport } from ${src('../../src/rfc8460/parse.ts')};
      import { saveInboundReport } from ${src('../../src/receiving/persist/inbound-store.ts')};
      import { readFileSync } from 'node:fs';
      const s = await openStore(JSON.parse(process.argv[1]));
      const raw = readFileSync(process.argv[2]);
      const out = [];
      for (let n = 0; n < 5; n++) { const { report, findings } = parseReport(raw); out.push(await saveInboundReport(s, { raw, report, findings, channel: 'file', receivedAt: 1 })); }
      await s.close(); console.log(JSON.stringify(out));`;
    const file = path.join(FIX, 'dmarc-report-viewer__microsoft.json');
    const runOne = () => execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(store.config), file], { timeout: 60_000 });
    const outs = await Promise.all([runOne(), runOne(), runOne()]);
    const results = outs.flatMap((o) => JSON.parse(o.stdout) as { status: string; id: number }[]);
    assert.equal(results.filter((r) => r.status === 'stored').length, 1);
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
  });

  test('DKIM result, envelope, message metadata and raw bytes are kept', async () => {
    const store = await open();
    const i = input('stalwart-mail-auth__rpt01.json', {
      channel: 'smtp',
      raw: Buffer.from('From: x\r\n\r\nthe whole e-mail'),
      json: readFileSync(path.join(FIX, 'stalwart-mail-auth__rpt01.json')),
      envelope: { mailFrom: 'reporter@sender.example', rcptTo: ['tlsrpt@example.com'] },
      dkim: { result: 'pass', signingDomain: 'Sender.Example', aligned: true, alignedWith: 'contact-info' },
      message: { subject: 'Report Domain: example.com', messageId: '<1@x>' },
    });
    const r = await saveInboundReport(store, i);
    const row = await store.db.selectFrom('inbound_report').selectAll().where('id', '=', r.id).executeTakeFirstOrThrow();
    assert.equal(row.dkim_result, 'pass');
    assert.equal(row.dkim_domain, 'sender.example');
    assert.equal(row.dkim_aligned, 1);
    assert.equal(Buffer.from(row.raw!).toString(), 'From: x\r\n\r\nthe whole e-mail');
    assert.deepEqual(Buffer.from(row.payload), readFileSync(path.join(FIX, 'stalwart-mail-auth__rpt01.json')));
    assert.deepEqual(JSON.parse(row.envelope_json!), { mailFrom: 'reporter@sender.example', rcptTo: ['tlsrpt@example.com'] });
    assert.equal(JSON.parse(row.message_json!).messageId, '<1@x>');
    const unsigned = await saveInboundReport(store, input('parsedmarc__mail.ru.json'));
    const row2 = await store.db.selectFrom('inbound_report').select(['dkim_result', 'dkim_aligned', 'raw']).where('id', '=', unsigned.id).executeTakeFirstOrThrow();
    assert.deepEqual({ ...row2 }, { dkim_result: 'none', dkim_aligned: 0, raw: null });
  });

  test('a large report is stored packed (gzip) and reads back whole: detail, list, export; small ones stay plain', async () => {
    const store = await open();
    const json = Buffer.from(JSON.stringify({
      'organization-name': 'Big Sender', 'contact-info': 'tlsrpt@big.example', 'report-id': 'big-1',
      'date-range': { 'start-datetime': '2026-11-20T00:00:00Z', 'end-datetime': '2026-11-20T23:59:59Z' },
      policies: Array.from({ length: 300 }, (_, p) => ({
        policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce'], 'policy-domain': `d${p}.example`, 'mx-host': [`mx.d${p}.example`] },
        summary: { 'total-successful-session-count': p, 'total-failure-session-count': 2 },
        'failure-details': [1, 2].map((k) => ({ 'result-type': 'certificate-expired', 'receiving-ip': `192.0.2.${k}`, 'failed-session-count': 1 })),
      })),
    }));
    const { report, findings } = parseReport(json);
    const raw = gzipSync(json);
    const big = await saveInboundReport(store, { raw, json, report, findings, channel: 'http', receivedAt: 1_700_000_000 });
    const row = await store.db.selectFrom('inbound_report').selectAll().where('id', '=', big.id).executeTakeFirstOrThrow();
    assert.equal(row.report_json, '');
    assert.equal(row.blob_encoding, 'gzip');
    assert.ok(row.report_json_gz!.byteLength * 5 < json.byteLength, `packed ${row.report_json_gz!.byteLength} of ${json.byteLength}`);
    assert.ok(row.payload.byteLength * 5 < json.byteLength);
    const detail = (await getInboundReport(store, big.id))!;
    assert.deepEqual(Buffer.from(detail.payload, 'base64'), json);
    assert.deepEqual(Buffer.from(detail.raw, 'base64'), raw);
    assert.deepEqual(detail.report, JSON.parse(JSON.stringify(report)));
    assert.ok(row.raw!.byteLength < raw.byteLength + 100, 'the raw input is kept once, packed');
    // A small report in a large input (an e-mail with a big attachment besides): packed as well.
    const mailJson = readFileSync(path.join(FIX, 'stalwart-mail-auth__rpt01.json'));
    const mail = Buffer.concat([Buffer.from(`Subject: report\r\nX-Padding: ${'p'.repeat(200_000)}\r\n\r\n`), mailJson]);
    const inMail = await saveInboundReport(store, { raw: mail, json: mailJson, ...parseReport(mailJson), channel: 'smtp', receivedAt: 1_700_000_000 });
    const mailRow = await store.db.selectFrom('inbound_report').select(['raw', 'blob_encoding']).where('id', '=', inMail.id).executeTakeFirstOrThrow();
    assert.equal(mailRow.blob_encoding, 'gzip');
    assert.ok(mailRow.raw!.byteLength < 10_000, `raw ${mailRow.raw!.byteLength}`);
    const mailDetail = (await getInboundReport(store, inMail.id))!;
    assert.deepEqual([Buffer.from(mailDetail.raw, 'base64'), Buffer.from(mailDetail.payload, 'base64')], [mail, mailJson]);
    await store.db.deleteFrom('inbound_report').where('id', '=', inMail.id).execute();
    const exported = [];
    for await (const r of exportedReports(store)) exported.push(r);
    assert.deepEqual(exported, [JSON.parse(JSON.stringify(report))]);

    // Small, and with a date-range no parser could read: kept as given, shown as given.
    const smallJson = Buffer.from(JSON.stringify({ ...JSON.parse(readFileSync(path.join(FIX, 'parsedmarc__mail.ru.json'), 'utf8')), 'date-range': { 'start-datetime': 'the 20th', 'end-datetime': 'the 21st' } }));
    const smallReport = parseReport(smallJson);
    const small = await saveInboundReport(store, { raw: smallJson, ...smallReport, channel: 'http', receivedAt: 1_700_000_000 });
    const smallRow = await store.db.selectFrom('inbound_report').select(['report_json', 'blob_encoding', 'report_json_gz']).where('id', '=', small.id).executeTakeFirstOrThrow();
    assert.ok(smallRow.report_json.startsWith('{'));
    assert.deepEqual([smallRow.blob_encoding, smallRow.report_json_gz], [null, null]);
    // A row stored before migration 0525 has its date-range only in the JSON.
    await store.db.updateTable('inbound_report').set({ start_datetime: null, end_datetime: null }).where('id', '=', small.id).execute();
    const listed = new Map((await listInboundReports(store)).reports.map((r) => [r.id, r]));
    assert.deepEqual([listed.get(big.id)!.startDatetime, listed.get(big.id)!.endDatetime], ['2026-11-20T00:00:00Z', '2026-11-20T23:59:59Z']);
    assert.deepEqual([listed.get(small.id)!.startDatetime, listed.get(small.id)!.endDatetime], ['the 20th', 'the 21st']);
  });

  test('hostile values are stored, not fatal: NUL bytes, huge counts, thousands of failure details', async () => {
    const store = await open();
    const i = input('parsedmarc__mail.ru.json');
    const report = structuredClone(i.report);
    report.organizationName = 'Evil\u0000Org';
    report.contactInfo = undefined;
    report.reportId = 'id\u0000with-nul';
    report.policies[0].summary.totalSuccessfulSessionCount = 1e300;
    report.policies[0].failureDetails = Array.from({ length: 2500 }, (_, n) => ({
      resultType: n % 2 ? 'validation-failure' : 'Other\u0000', receivingIp: `192.0.2.${n % 250}`, failedSessionCount: 1,
    }));
    const r = await saveInboundReport(store, { ...i, report });
    assert.equal(r.status, 'stored');
    assert.equal((await saveInboundReport(store, { ...i, report })).status, 'duplicate');
    const row = await store.db.selectFrom('inbound_report').selectAll().where('id', '=', r.id).executeTakeFirstOrThrow();
    assert.equal(row.organization_name, 'Evil\uFFFDOrg');
    assert.equal(row.reporter, 'evil\uFFFDorg');
    assert.equal(row.total_successful, 2 ** 31 - 1);
    const n = await store.db.selectFrom('inbound_failure').select((eb) => eb.fn.countAll<number>().as('n')).where('report_ref', '=', r.id).executeTakeFirstOrThrow();
    assert.equal(n.n, 2500);
  });
});

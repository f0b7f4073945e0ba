/** @module test/analysis/inbound-cli — `tlsrpt inbound list|show|summary|export` (text, --json, --csv) against a real SQLite store file. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../src/store/index.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { saveInboundReport } from '../../src/receiving/persist/inbound-store.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/tlsrpt.js');
const FIX = path.resolve('test/fixtures/reports');
let dir: string;
let cfg: string;
const ids: number[] = [];

async function tl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args, '--config', cfg], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-cli-'));
  cfg = path.join(dir, 'tlsrpt.json');
  writeFileSync(cfg, JSON.stringify({ store: { sqlite: path.join(dir, 'db.sqlite') } }));
  const store = await openStore({ sqlite: path.join(dir, 'db.sqlite') });
  for (const f of ['parsedmarc__mail.ru.json', 'dmarc-report-viewer__rfc-example.json']) {
    const raw = readFileSync(path.join(FIX, f));
    const { report, findings } = parseReport(raw);
    ids.push((await saveInboundReport(store, { raw, report, findings, channel: 'file', receivedAt: 1_790_000_000 })).id);
  }
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('inbound summary --json has rows with the contract fields', async () => {
  const r = await tl('inbound', 'summary', '--json', '--domain', 'example.com', '--from', '2024-01-01');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.rows.map((x: any) => [x.policyDomain, x.day, x.reporter, x.policyType, x.successful, x.failed]), [
    ['example.com', '2024-02-22', 'mail.ru', 'sts', 0, 1],
  ]);
});

test('inbound summary: last 30 days by default; --all prints totals row, failure %, MX × result type', async () => {
  const recent = await tl('inbound', 'summary');
  assert.equal(recent.code, 0, recent.stderr);
  assert.match(recent.stdout, /^no reports from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}/, 'the fixtures are years old');
  // Machine output sums every stored day unless a range is asked for (scripts compare totals).
  const all = JSON.parse((await tl('inbound', 'summary', '--json')).stdout) as { rows: unknown[] };
  assert.ok(all.rows.length > 0, 'summary --json covers every stored day by default');
  const r = await tl('inbound', 'summary', '--all');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Sessions per policy domain \(all days\)\nPOLICY DOMAIN\s+REPORTS\s+SUCCESSFUL\s+FAILED\s+FAILED %/);
  assert.match(r.stdout, /company-y\.example\s+1\s+5326\s+303\s+5\.4%/);
  // 5326 + 0 successful, 303 + 1 failed: 304 / 5630 = 5.4 %
  assert.match(r.stdout, /TOTAL\s+-\s+5326\s+304\s+5\.4%/);
  assert.match(r.stdout, /company-y\.example\s+2016-04-01\s+company-x\.example\s+sts\s+5326\s+303\s+5\.4%\s+1/);
  assert.match(r.stdout, /company-y\.example\s+mx2\.mail\.company-y\.example\s+starttls-not-supported\s+200\s+1\n/);
  const csv = await tl('inbound', 'summary', '--all', '--csv', '--breakdown', 'mx-result-type');
  assert.equal(csv.stdout.split('\r\n')[0], 'policyDomain,receivingMxHostname,resultType,failed,reports');
  assert.match(csv.stdout, /\r\ncompany-y\.example,mx2\.mail\.company-y\.example,starttls-not-supported,200,1\r\n/);
  assert.equal((await tl('inbound', 'summary', '--json', '--csv')).code, 2);
  const bad = await tl('inbound', 'summary', '--from', '2024-02-30');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--from: expected a day as YYYY-MM-DD/);
});

test('inbound list with filters, JSON and table', async () => {
  const j = await tl('inbound', 'list', '--json', '--reporter', 'mail.ru');
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout).reports.map((x: any) => x.id), [ids[0]]);
  const t = await tl('inbound', 'list', '--has-failures');
  assert.match(t.stdout, /1-2 of 2 report\(s\)/);
  const none = await tl('inbound', 'list', '--has-failures', 'no');
  assert.match(none.stdout, /0 of 0 report\(s\)/);
  const csv = await tl('inbound', 'list', '--csv', '--result-type', 'certificate-expired');
  const lines = csv.stdout.trimEnd().split('\r\n');
  assert.equal(lines.length, 2);
  assert.match(lines[1], new RegExp(`^${ids[1]},2016-04-01,`));
});

test('inbound export: parsedmarc JSON to stdout, CSV to a file; a bad format exits 2', async () => {
  const j = await tl('inbound', 'export', '--format', 'parsedmarc-json');
  assert.equal(j.code, 0, j.stderr);
  const docs = JSON.parse(j.stdout);
  assert.deepEqual(docs.map((d: any) => [d.report_id, d.policies[0].failed_session_count]), [
    ['5065427c-23d3-47ca-b6e0-946ea0e8c4be', 303], ['b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru', 1],
  ]);
  const file = path.join(dir, 'out.csv');
  const c = await tl('inbound', 'export', '--format', 'parsedmarc-csv', '--domain', 'example.com', '-o', file);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(readFileSync(file, 'utf8').trimEnd().split('\r\n').length, 1 + 1 + 2);
  const bad = await tl('inbound', 'export', '--format', 'xml');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format: expected one of parsedmarc-json, parsedmarc-csv, ndjson/);
});

test('inbound show: every field in text, --csv, --json, --raw; unknown id exits 1', async () => {
  const t = await tl('inbound', 'show', String(ids[0]));
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /sts-policy-fetch-error/);
  assert.match(t.stdout, /DKIM\s+none/);
  // mail.ru's two details differ only in failure-reason-code: both must be visible.
  assert.match(t.stdout, /failure-reason-code\s+bad https response code: 404/);
  assert.match(t.stdout, /failure-reason-code\s+bad https response code: 500/);
  const rfc = await tl('inbound', 'show', String(ids[1]));
  for (const line of ['policy string   version: STSv1', '                mode: testing', 'mx-host         *.mail.company-y.example',
    'sending-mta-ip          2001:db8:abcd:0013::1', 'receiving-ip            203.0.113.56', 'receiving-mx-hostname   mx-backup.mail.company-y.example',
    'additional-information  https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported']) {
    assert.ok(rfc.stdout.includes(line), `missing ${JSON.stringify(line)} in\n${rfc.stdout}`);
  }
  assert.match(rfc.stdout, /Policy 1: sts company-y\.example — 5326 successful, 303 failed \(5\.4%\)/);
  const csv = (await tl('inbound', 'show', String(ids[1]), '--csv')).stdout.trimEnd().split('\r\n');
  assert.equal(csv.length, 4);
  assert.match(csv[3], /,validation-failure,198\.51\.100\.62,mx-backup\.mail\.company-y\.example,,203\.0\.113\.58,3,X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED,$/);
  const j = JSON.parse((await tl('inbound', 'show', String(ids[1]), '--json')).stdout);
  assert.equal(j.reportId, '5065427c-23d3-47ca-b6e0-946ea0e8c4be');
  const raw = await tl('inbound', 'show', String(ids[0]), '--raw');
  assert.equal(raw.stdout, readFileSync(path.join(FIX, 'parsedmarc__mail.ru.json'), 'utf8'));
  const missing = await tl('inbound', 'show', '999');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no inbound report with id 999/);
});

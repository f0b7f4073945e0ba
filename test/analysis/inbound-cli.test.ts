/** @module test/analysis/inbound-cli — `tlsrpt inbound list|show|summary` against a real SQLite store file. */
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
let ids: number[] = [];

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
  const r = await tl('inbound', 'summary', '--json', '--domain', 'example.com');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.rows.map((x: any) => [x.policyDomain, x.day, x.reporter, x.policyType, x.successful, x.failed]), [
    ['example.com', '2024-02-22', 'mail.ru', 'sts', 0, 1],
  ]);
});

test('inbound summary prints a table; a bad day is a usage error (exit 2)', async () => {
  const r = await tl('inbound', 'summary');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^POLICY DOMAIN\s+DAY\s+REPORTER/);
  assert.match(r.stdout, /company-y\.example\s+2016-04-01\s+company-x\.example\s+sts\s+5326\s+303/);
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
});

test('inbound show: table, --json, --raw; unknown id exits 1', async () => {
  const t = await tl('inbound', 'show', String(ids[0]));
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /sts-policy-fetch-error/);
  assert.match(t.stdout, /DKIM\s+none/);
  const j = JSON.parse((await tl('inbound', 'show', String(ids[1]), '--json')).stdout);
  assert.equal(j.reportId, '5065427c-23d3-47ca-b6e0-946ea0e8c4be');
  const raw = await tl('inbound', 'show', String(ids[0]), '--raw');
  assert.equal(raw.stdout, readFileSync(path.join(FIX, 'parsedmarc__mail.ru.json'), 'utf8'));
  const missing = await tl('inbound', 'show', '999');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no inbound report with id 999/);
});

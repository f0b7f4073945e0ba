/** @module test/analysis/inbound-queries — list, show and summary of stored reports on SQLite and PostgreSQL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { forEachStore, type TestStore } from '../support/stores.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { saveInboundReport } from '../../src/receiving/persist/inbound-store.js';
import { listInboundReports, getInboundReport } from '../../src/analysis/inbound-reports.js';
import { inboundSummary, type InboundSummary } from '../../src/analysis/inbound-summary.js';
import { parseDay, parseTimeBound } from '../../src/analysis/filters.js';

const FIX = path.resolve('test/fixtures/reports');
const files = readdirSync(FIX).filter((f) => f.endsWith('.json')).sort();
const RECEIVED = 1_790_000_000;

/** Stores every JSON fixture; returns the ids by file name. */
async function storeAll(store: TestStore): Promise<Map<string, { id: number; status: string }>> {
  const out = new Map<string, { id: number; status: string }>();
  for (const [n, f] of files.entries()) {
    const raw = readFileSync(path.join(FIX, f));
    const { report, findings } = parseReport(raw);
    out.set(f, await saveInboundReport(store, { raw, report, findings, channel: n % 2 ? 'http' : 'file', peer: f, receivedAt: RECEIVED + n }));
  }
  return out;
}

/** The expected totals per policy domain and day, counted straight from the JSON text (first copy of each report-id). */
function expectedTotals(): Map<string, { successful: number; failed: number }> {
  const seen = new Set<string>();
  const totals = new Map<string, { successful: number; failed: number }>();
  for (const f of files) {
    const raw = readFileSync(path.join(FIX, f), 'utf8');
    const json = JSON.parse(raw);
    const key = `${json['organization-name']}|${json['report-id']}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const { report } = parseReport(raw); // only for the filled-in policy-domain of sloppy senders
    const day = String(json['date-range']['start-datetime']).slice(0, 10);
    json.policies.forEach((p: any, i: number) => {
      const k = `${report.policies[i].policy.policyDomain}|${day}`;
      const t = totals.get(k) ?? { successful: 0, failed: 0 };
      t.successful += Number(p.summary?.['total-successful-session-count'] ?? 0);
      t.failed += Number(p.summary?.['total-failure-session-count'] ?? 0);
      totals.set(k, t);
    });
  }
  return totals;
}

const summaries = new Map<string, InboundSummary>();

test('filters: days and time bounds', () => {
  assert.equal(parseDay('from', '1970-01-02'), 1);
  assert.throws(() => parseDay('from', '2024-13-01'), /from: expected a day/);
  assert.throws(() => parseDay('to', '2024-02-30'), /to: expected a day/);
  assert.equal(parseTimeBound('to', '1970-01-01', 'to'), 86400);
  assert.equal(parseTimeBound('from', '2024-02-22T12:00:00Z', 'from'), 1708603200);
  assert.equal(parseTimeBound('from', '1708603200', 'from'), 1708603200);
  assert.throws(() => parseTimeBound('from', 'yesterday', 'from'), /from: expected/);
});

forEachStore('inbound queries', (open) => {
  test('summary totals per policy domain and day equal an independent count, same on both databases', async () => {
    const store = await open();
    await storeAll(store);
    const summary = await inboundSummary(store);
    const got = new Map<string, { successful: number; failed: number }>();
    for (const r of summary.rows) {
      const k = `${r.policyDomain}|${r.day}`;
      const t = got.get(k) ?? { successful: 0, failed: 0 };
      t.successful += r.successful;
      t.failed += r.failed;
      got.set(k, t);
    }
    assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...expectedTotals()].sort()));
    assert.deepEqual(summary.totals.map((t) => `${t.policyDomain}|${t.day}`), [...got.keys()].sort());
    for (const r of summary.rows) assert.match(r.day, /^\d{4}-\d{2}-\d{2}$/);
    // failure details of the RFC example: mx2 200, mx1 100, backup 3 (RFC 8460 Appendix B)
    const mx = summary.byReceivingMx.filter((r) => r.policyDomain === 'company-y.example').map((r) => [r.receivingMxHostname, r.failed]);
    assert.deepEqual(mx, [['mx-backup.mail.company-y.example', 3], ['mx1.mail.company-y.example', 100], ['mx2.mail.company-y.example', 200]]);
    const rt = summary.byResultType.filter((r) => r.policyDomain === 'company-y.example').map((r) => [r.resultType, r.failed]);
    assert.deepEqual(rt, [['certificate-expired', 100], ['starttls-not-supported', 200], ['validation-failure', 3]]);
    summaries.set(store.kind, summary);
    if (summaries.size === 2) assert.deepEqual(summaries.get('postgres'), summaries.get('sqlite'));
  });

  test('summary filters: domain, from, to (days, inclusive), reporter', async () => {
    const store = await open();
    await storeAll(store);
    const all = await inboundSummary(store);
    const onlyDomain = await inboundSummary(store, { domain: 'example.com' });
    assert.ok(onlyDomain.rows.length > 0);
    assert.deepEqual(onlyDomain.rows, all.rows.filter((r) => r.policyDomain === 'example.com'));
    assert.ok(onlyDomain.byResultType.every((r) => r.policyDomain === 'example.com'));
    const day = parseDay('d', '2024-02-22');
    const oneDay = await inboundSummary(store, { fromDay: day, toDay: day });
    assert.deepEqual(oneDay.rows.map((r) => [r.day, r.reporter, r.failed]), [['2024-02-22', 'mail.ru', 1]]);
    const range = await inboundSummary(store, { fromDay: parseDay('f', '2024-01-01'), toDay: parseDay('t', '2024-12-31') });
    assert.deepEqual(range.rows, all.rows.filter((r) => r.day >= '2024-01-01' && r.day <= '2024-12-31'));
    const google = await inboundSummary(store, { reporter: 'Google.com' });
    assert.ok(google.rows.length > 0 && google.rows.every((r) => r.reporter === 'google.com'));
  });

  test('list: filters, has-failures, paging and total', async () => {
    const store = await open();
    const ids = await storeAll(store);
    const stored = [...ids.values()].filter((r) => r.status === 'stored').length;
    const all = await listInboundReports(store, { limit: 1000 });
    assert.equal(all.total, stored);
    assert.equal(all.reports.length, stored);
    // newest period first
    const starts = all.reports.map((r) => r.startDatetime);
    assert.deepEqual(starts, [...starts].sort().reverse());
    const failing = await listInboundReports(store, { hasFailures: true, limit: 1000 });
    assert.ok(failing.reports.length > 0 && failing.reports.every((r) => r.failed > 0));
    const clean = await listInboundReports(store, { hasFailures: false, limit: 1000 });
    assert.equal(failing.total + clean.total, stored);
    const dom = await listInboundReports(store, { domain: 'example.com', limit: 1000 });
    assert.ok(dom.reports.length > 0 && dom.reports.every((r) => r.policyDomains.includes('example.com')));
    const byOrg = await listInboundReports(store, { reporter: 'MAIL.RU' });
    assert.deepEqual(byOrg.reports.map((r) => r.reportId), ['b28254de-7b2e-be36-bb5c-4c3b92da8b25@mail.ru']);
    const inTime = await listInboundReports(store, { from: parseTimeBound('f', '2024-01-01', 'from'), to: parseTimeBound('t', '2024-12-31', 'to'), limit: 1000 });
    assert.ok(inTime.reports.length > 0 && inTime.reports.every((r) => r.startDatetime.startsWith('2024-')));
    const byResult = await listInboundReports(store, { resultType: 'certificate-expired', limit: 1000 });
    assert.deepEqual(byResult.reports.map((r) => r.reportId), ['5065427c-23d3-47ca-b6e0-946ea0e8c4be']);
    const byMx = await listInboundReports(store, { mx: 'mx2.mail.company-y.example', ip: '203.0.113.56' });
    assert.deepEqual(byMx.reports.map((r) => r.reportId), ['5065427c-23d3-47ca-b6e0-946ea0e8c4be']);
    assert.equal((await listInboundReports(store, { mx: 'mx2.mail.company-y.example', ip: '192.0.2.1' })).total, 0);
    const page1 = await listInboundReports(store, { limit: 5 });
    const page2 = await listInboundReports(store, { limit: 5, offset: 5 });
    assert.deepEqual([...page1.reports, ...page2.reports].map((r) => r.id), all.reports.slice(0, 10).map((r) => r.id));
    assert.equal(page2.total, stored);
  });

  test('show: normalised report, findings, DKIM result and raw bytes', async () => {
    const store = await open();
    const ids = await storeAll(store);
    const file = 'dmarc-report-viewer__no-contact.json';
    const detail = await getInboundReport(store, ids.get(file)!.id);
    assert.ok(detail);
    const parsed = parseReport(readFileSync(path.join(FIX, file)));
    assert.deepEqual(detail.report, parsed.report);
    assert.deepEqual(detail.findings, parsed.findings);
    assert.deepEqual(detail.dkim, { result: 'none', domain: null, aligned: false });
    assert.deepEqual(Buffer.from(detail.raw, 'base64'), readFileSync(path.join(FIX, file)));
    assert.equal(detail.peer, file);
    assert.equal(await getInboundReport(store, 999999), undefined);
  });
});

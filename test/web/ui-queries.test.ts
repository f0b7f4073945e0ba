/**
 * @module test/web/ui-queries — the web UI's read models on SQLite and PostgreSQL: overview
 * figures and warnings, the domain page's series and tables, open windows, "send now", the
 * outbound report JSON and the system status, each checked against numbers put in by the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { forEachStore, type TestStore } from '../support/stores.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { saveInboundReport } from '../../src/receiving/persist/inbound-store.js';
import { overview } from '../../src/analysis/overview.js';
import { domainDetail } from '../../src/analysis/domain-detail.js';
import { expediteOutboundReport, openWindows, outboundReportJson } from '../../src/analysis/outbound-view.js';
import { systemStatus } from '../../src/analysis/system-status.js';
import { listInboundReports } from '../../src/analysis/inbound-reports.js';

const TODAY = 20_500; // 2026-02-15
const dayIso = (d: number) => new Date(d * 86400_000).toISOString().slice(0, 10);

interface Detail { resultType: string; mx?: string; ip?: string; sendingIp?: string; count: number }
let seq = 0;
/** One RFC 8460 report of `reporter` about `domain` for UTC day `day`. */
async function put(store: TestStore, o: { reporter: string; domain: string; day: number; ok: number; failed: number; details?: Detail[]; policyString?: string[]; channel?: string }) {
  const json = {
    'organization-name': `${o.reporter} Inc.`,
    'date-range': { 'start-datetime': `${dayIso(o.day)}T00:00:00Z`, 'end-datetime': `${dayIso(o.day)}T23:59:59Z` },
    'contact-info': `tls@${o.reporter}`,
    'report-id': `r-${++seq}`,
    policies: [{
      policy: { 'policy-type': 'sts', 'policy-domain': o.domain, 'policy-string': o.policyString ?? ['version: STSv1', 'mode: enforce', `mx: mx.${o.domain}`, 'max_age: 86400'], 'mx-host': [`mx.${o.domain}`] },
      summary: { 'total-successful-session-count': o.ok, 'total-failure-session-count': o.failed },
      'failure-details': (o.details ?? []).map((d) => ({
        'result-type': d.resultType, 'receiving-mx-hostname': d.mx, 'receiving-ip': d.ip, 'sending-mta-ip': d.sendingIp, 'failed-session-count': d.count,
      })),
    }],
  };
  const raw = Buffer.from(JSON.stringify(json));
  const { report, findings } = parseReport(raw);
  const r = await saveInboundReport(store, { raw, report, findings, channel: (o.channel ?? 'http') as 'http', peer: '192.0.2.1', receivedAt: o.day * 86400 + 3600 });
  assert.equal(r.status, 'stored');
}

async function seed(store: TestStore) {
  // a.example: google reports every day of the last 14; clean before the last week, failing in it.
  for (let d = TODAY - 13; d <= TODAY; d++) {
    const recent = d > TODAY - 7;
    await put(store, {
      reporter: 'google.com', domain: 'a.example', day: d, ok: 100, failed: recent ? 50 : 0,
      details: recent ? [
        { resultType: 'certificate-expired', mx: 'mx1.a.example', ip: '198.51.100.1', sendingIp: '203.0.113.9', count: 30 },
        { resultType: 'starttls-not-supported', mx: 'mx2.a.example', ip: '198.51.100.2', sendingIp: '203.0.113.9', count: 20 },
      ] : [],
    });
  }
  // microsoft reported a.example on 5 days, then fell silent 10 days ago.
  for (let d = TODAY - 14; d <= TODAY - 10; d++) await put(store, { reporter: 'microsoft.com', domain: 'a.example', day: d, ok: 10, failed: 0, policyString: ['version: STSv1', 'mode: testing'] });
  // b.example: one quiet report, and one outside a 30-day range.
  await put(store, { reporter: 'google.com', domain: 'b.example', day: TODAY - 2, ok: 7, failed: 1, details: [{ resultType: 'validation-failure', count: 1 }], channel: 'smtp' });
  await put(store, { reporter: 'google.com', domain: 'b.example', day: TODAY - 40, ok: 1000, failed: 1000 });
}

forEachStore('web UI read models', (open) => {
  test('overview: sessions, failure rate, reporters, top MX and result type, warnings; range bounds', async () => {
    const store = await open();
    await seed(store);
    const o = await overview(store, { fromDay: TODAY - 29, toDay: TODAY }, TODAY);
    assert.equal(o.from, dayIso(TODAY - 29));
    assert.deepEqual(o.domains.map((d) => d.policyDomain), ['a.example', 'b.example']);
    const a = o.domains[0];
    assert.equal(a.successful, 14 * 100 + 5 * 10);
    assert.equal(a.failed, 7 * 50);
    assert.equal(a.reports, 19);
    assert.equal(a.reporters, 2);
    assert.ok(Math.abs(a.failureRate - 350 / 1800) < 1e-9);
    assert.equal(a.daily.length, 30);
    assert.deepEqual(a.daily.at(-1), { day: dayIso(TODAY), successful: 100, failed: 50 });
    assert.deepEqual(a.topFailingMx, { receivingMxHostname: 'mx1.a.example', failed: 210 });
    assert.deepEqual(a.topResultType, { resultType: 'certificate-expired', failed: 210 });
    assert.deepEqual(a.warnings.map((w) => w.code).sort(), ['failure-rate-rose', 'reporters-silent']);
    const silent = a.warnings.find((w) => w.code === 'reporters-silent');
    assert.deepEqual(silent && 'reporters' in silent ? silent.reporters : [], ['microsoft.com']);
    const b = o.domains[1];
    assert.equal(b.successful, 7); // the report 40 days back is outside the range
    assert.equal(b.failed, 1);
    assert.deepEqual(b.warnings, []);
    assert.equal(b.topFailingMx, null, 'a detail without an MX host is no "top failing MX"');
    // A longer range takes the old report in.
    const long = await overview(store, { fromDay: TODAY - 59, toDay: TODAY }, TODAY);
    assert.equal(long.domains.find((d) => d.policyDomain === 'b.example')!.successful, 1007);
    // A year: the sparkline sums days into buckets, and the buckets keep every session.
    const year = await overview(store, { fromDay: TODAY - 364, toDay: TODAY }, TODAY);
    assert.equal(year.bucketDays, 4);
    const ya = year.domains.find((d) => d.policyDomain === 'a.example')!;
    assert.equal(ya.daily.length, 92);
    assert.deepEqual([ya.daily.reduce((n, p) => n + p.successful, 0), ya.daily.reduce((n, p) => n + p.failed, 0)], [1450, 350]);
    assert.equal(o.bucketDays, 1);
    await store.close();
  });

  test('domain detail: daily series by result type, reporter, MX/IP and sending-IP tables, policies first/last seen', async () => {
    const store = await open();
    await seed(store);
    const d = await domainDetail(store, 'a.example', { fromDay: TODAY - 29, toDay: TODAY });
    assert.deepEqual(d.totals, { successful: 1450, failed: 350, reports: 19 });
    assert.deepEqual(d.resultTypes, ['certificate-expired', 'starttls-not-supported']);
    const last = d.daily.at(-1)!;
    assert.deepEqual(last.byResultType, { 'certificate-expired': 30, 'starttls-not-supported': 20 });
    assert.deepEqual(d.daily.find((p) => p.day === dayIso(TODAY - 12)), { day: dayIso(TODAY - 12), successful: 110, failed: 0, byResultType: {} });
    assert.deepEqual(d.byReporter.map((r) => [r.reporter, r.successful, r.failed, r.reports, r.firstDay, r.lastDay]), [
      ['google.com', 1400, 350, 14, dayIso(TODAY - 13), dayIso(TODAY)],
      ['microsoft.com', 50, 0, 5, dayIso(TODAY - 14), dayIso(TODAY - 10)],
    ]);
    assert.deepEqual(d.byReceivingMx, [
      { receivingMxHostname: 'mx1.a.example', receivingIp: '198.51.100.1', failed: 210, resultTypes: ['certificate-expired'] },
      { receivingMxHostname: 'mx2.a.example', receivingIp: '198.51.100.2', failed: 140, resultTypes: ['starttls-not-supported'] },
    ]);
    assert.deepEqual(d.bySendingIp, [{ sendingMtaIp: '203.0.113.9', failed: 350 }]);
    assert.equal(d.policies.length, 2);
    assert.deepEqual([d.policies[0].policyString[1], d.policies[0].reports, d.policies[0].lastDay], ['mode: enforce', 14, dayIso(TODAY)]);
    assert.deepEqual([d.policies[1].policyString[1], d.policies[1].firstDay, d.policies[1].lastDay], ['mode: testing', dayIso(TODAY - 14), dayIso(TODAY - 10)]);
    const none = await domainDetail(store, 'nobody.example', { fromDay: TODAY - 6, toDay: TODAY });
    assert.deepEqual(none.totals, { successful: 0, failed: 0, reports: 0 });
    assert.equal(none.daily.length, 7);
    await store.close();
  });

  test('report list filters: channel and verified', async () => {
    const store = await open();
    await seed(store);
    assert.equal((await listInboundReports(store, { channel: 'smtp' })).total, 1);
    assert.equal((await listInboundReports(store, { channel: 'http' })).total, 20);
    assert.equal((await listInboundReports(store, { verified: true })).total, 0);
    assert.equal((await listInboundReports(store, { verified: false })).total, 21);
    await store.close();
  });

  test('outbound: open windows with counts, report JSON, send now, system status', async () => {
    const store = await open();
    await seed(store);
    const now = TODAY * 86400 + 7200;
    const win = async (domain: string, state: 'open' | 'closed', counts: [number, number][]) => {
      const w = await store.db.insertInto('outbound_window').values({ report_domain: domain, window_start: TODAY * 86400, window_end: (TODAY + 1) * 86400, frequency: 'daily', state, created_at: now })
        .returning('id').executeTakeFirstOrThrow();
      for (const [i, [s, f]] of counts.entries()) {
        await store.db.insertInto('outbound_policy').values({ window_id: Number(w.id), fingerprint: `fp${i}`, tlsrpt_record: null, policy_json: '{}', successful: s, failed: f }).execute();
      }
      return Number(w.id);
    };
    await win('x.example', 'open', [[5, 1], [7, 2]]);
    await win('y.example', 'open', [[100, 0]]);
    const closed = await win('z.example', 'closed', [[3, 3]]);
    const w = await openWindows(store);
    assert.equal(w.total, 2);
    assert.deepEqual(w.windows.map((x) => [x.policyDomain, x.successful, x.failed, x.policies]), [['y.example', 100, 0, 1], ['x.example', 12, 3, 2]]);

    const body = JSON.stringify({ 'organization-name': 'example.com', 'report-id': 'rep-1' });
    const rep = await store.db.insertInto('outbound_report').values({
      window_id: closed, report_domain: 'z.example', window_start: TODAY * 86400, window_end: (TODAY + 1) * 86400, report_id: 'rep-1',
      json_bytes: body.length, gz: gzipSync(body), file_name: 'f.json.gz', state: 'pending', reason: null, record_source: 'dns', tlsrpt_record: null,
      due_at: now + 3000, created_at: now, built_at: now, claimed_by: null,
    }).returning('id').executeTakeFirstOrThrow();
    const id = Number(rep.id);
    await store.db.insertInto('outbound_target').values([
      { outbound_report_id: id, uri: 'mailto:a@z.example', scheme: 'mailto', state: 'retrying', next_attempt_at: now + 900 },
      { outbound_report_id: id, uri: 'https://z.example/r', scheme: 'https', state: 'sent', next_attempt_at: now - 10 },
    ]).execute();
    assert.deepEqual(await outboundReportJson(store, id), { json: body });
    assert.deepEqual(await outboundReportJson(store, id + 100), { missing: 'no-report' });
    assert.deepEqual(await expediteOutboundReport(store, id, now), { ok: true, targets: 1 });
    const after = await store.db.selectFrom('outbound_target').select(['uri', 'next_attempt_at']).where('outbound_report_id', '=', id).orderBy('id').execute();
    assert.deepEqual(after.map((t) => [t.uri, Number(t.next_attempt_at)]), [['mailto:a@z.example', now], ['https://z.example/r', now - 10]]);
    assert.equal(Number((await store.db.selectFrom('outbound_report').select('due_at').where('id', '=', id).executeTakeFirstOrThrow()).due_at), now);
    await store.db.updateTable('outbound_report').set({ state: 'done' }).where('id', '=', id).execute();
    assert.deepEqual(await expediteOutboundReport(store, id, now), { ok: false, reason: 'not-sendable', state: 'done' });

    const s = await systemStatus(store);
    assert.equal(s.openWindows, 2);
    assert.deepEqual(s.outboundReports, { done: 1 });
    assert.deepEqual(s.outboundTargets, { retrying: 1, sent: 1 });
    assert.equal(s.inboundReports, 21);
    assert.deepEqual(s.inboundChannels.map((c) => [c.channel, c.reports]), [['http', 20], ['smtp', 1]]);
    const ov = await overview(store, { fromDay: TODAY - 29, toDay: TODAY }, TODAY);
    assert.deepEqual(ov.sending, {
      domainsReportedOn: 3, openWindows: 2, openWindowSessions: { successful: 112, failed: 3 }, reportsWaiting: 0, targetsRetrying: 1, reportsFailed: 0,
    });
    await store.close();
  });
});

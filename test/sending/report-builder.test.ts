/**
 * @module test/sending/report-builder — the report a fixed set of events produces (golden JSON,
 * re-recorded with UPDATE_GOLDEN=1), the same on SQLite and PostgreSQL; `maxReportSize`
 * trimming drops the smallest failure details and keeps the totals exact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forEachStore } from '../support/stores.js';
import { Aggregator } from '../../src/sending/collect/aggregate.js';
import { listOpenWindows } from '../../src/analysis/outbound-windows.js';
import { buildReport, composeReport, type WindowPolicyCounts } from '../../src/sending/report/report-builder.js';
import { isoSeconds } from '../../src/common/time.js';
import { parseReport } from '../../src/rfc8460/index.js';
import type { TlsSessionOutcome } from '../../src/sending/collect/event.js';
import { plainSettings, D0 } from './delivery/harness.js';
import { captureLog } from './delivery/log-capture.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'report-builder.golden.json');

const sts = (domain: string) => ({ policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce', `mx: *.${domain}`, 'max_age: 604800'], policyDomain: domain, mxHost: [`*.${domain}`] });
const tlsa = (mx: string) => ({ policyType: 'tlsa', policyString: ['3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6'], policyDomain: mx, mxHost: [] });

/** The fixed events: 2 policies of example.net, several failure kinds, one event of our own report mail. */
function events(): TlsSessionOutcome[] {
  const out: TlsSessionOutcome[] = [];
  const rec = 'v=TLSRPTv1; rua=mailto:tlsrpt@example.net';
  for (let i = 0; i < 97; i++) out.push({ recipientDomain: 'example.net', tlsrptRecord: rec, policies: [{ policy: sts('example.net'), failed: false, failureDetails: [] }] });
  for (let i = 0; i < 5; i++) out.push({ recipientDomain: 'example.net', tlsrptRecord: rec, policies: [{ policy: sts('example.net'), failed: true, failureDetails: [{ resultType: 'certificate-expired', sendingMtaIp: '192.0.2.10', receivingMxHostname: 'mx1.example.net', receivingIp: '198.51.100.1' }] }] });
  for (let i = 0; i < 2; i++) out.push({ recipientDomain: 'example.net', tlsrptRecord: rec, policies: [{ policy: sts('example.net'), failed: true, failureDetails: [{ resultType: 'certificate-not-trusted', sendingMtaIp: '2001:db8::25', receivingMxHostname: 'mx2.example.net', receivingMxHelo: 'mx2', receivingIp: '2001:db8:1::2', failureReasonCode: 'X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT' }] }] });
  out.push({ recipientDomain: 'example.net', tlsrptRecord: rec, policies: [{ policy: sts('example.net'), failed: true, failureDetails: [{ resultType: 'starttls-not-supported', sendingMtaIp: '192.0.2.10', receivingMxHostname: 'mx3.example.net', receivingIp: '198.51.100.3', additionalInformation: 'https://mx3.example.net/why' }] }] });
  for (let i = 0; i < 20; i++) out.push({ recipientDomain: 'example.net', tlsrptRecord: rec, policies: [{ policy: tlsa('mx.example.net'), failed: i < 3, failureDetails: i < 3 ? [{ resultType: 'tlsa-invalid', sendingMtaIp: '192.0.2.10', receivingMxHostname: 'mx.example.net', receivingIp: '198.51.100.9' }] : [] }] });
  out.push({ recipientDomain: 'example.net', isReportDelivery: true, policies: [{ policy: sts('example.net'), failed: true, failureDetails: [] }] });
  return out;
}

forEachStore('report builder', (open) => {
  it('builds the golden report for a fixed set of events', async () => {
    const store = await open();
    const agg = new Aggregator({ store, sendFrequency: () => 'daily', clock: () => (D0 + 3600) * 1000 });
    for (const e of events()) agg.add(e);
    await agg.flush();
    const windows = await listOpenWindows(store);
    const settings = plainSettings({ orgName: 'Example Sender Org', contactInfo: 'tls-contact@example.com' });
    const byDomain = Object.fromEntries(windows.map((w) => [w.reportDomain, w]));
    const reports = Object.keys(byDomain).sort().map((d) => {
      const composed = composeReport(byDomain[d], settings, captureLog().log, () => Buffer.from('00112233aabbccdd', 'hex'));
      return { fileName: composed.fileName, report: JSON.parse(composed.json) };
    });
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, `${JSON.stringify(reports, null, 2)}\n`);
    // A missing golden is a failure, never a fresh recording: CI would compare a file with itself.
    else if (!existsSync(GOLDEN)) assert.fail(`golden file ${GOLDEN} is missing: run with UPDATE_GOLDEN=1 to record it`);
    assert.deepEqual(reports, JSON.parse(readFileSync(GOLDEN, 'utf8')));
    // Our own parser reads it back without a single finding.
    for (const r of reports) assert.deepEqual(parseReport(JSON.stringify(r.report)).findings, []);
  });
});

describe('maxReportSize', () => {
  // 3 policies × 400 distinct failure details with counts 1..400.
  const policies: WindowPolicyCounts[] = [0, 1, 2].map((p) => ({
    policy: { policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce'], policyDomain: `d${p}.example`, mxHost: [`mx.d${p}.example`] },
    successful: 1000 + p,
    failed: 400 * 401 / 2,
    failureDetails: Array.from({ length: 400 }, (_, i) => ({
      resultType: 'certificate-expired', sendingMtaIp: `192.0.2.${i % 250}`, receivingMxHostname: `mx${i}.d${p}.example`, receivingIp: `198.51.${p}.${i % 250}`, failedSessionCount: i + 1,
    })),
  }));
  const identity = { organizationName: 'Org', contactInfo: 'c@example.com', reportId: 'r1' };
  const full = buildReport({ identity, windowStart: D0, windowEnd: D0 + 86400, policies, maxReportSize: 100_000_000 });

  it('leaves a report that fits alone', () => {
    assert.equal(full.trimmedDetails, 0);
    assert.equal(full.report.policies.reduce((n, p) => n + p.failureDetails.length, 0), 1200);
    assert.equal(full.report.dateRange.startDatetime, isoSeconds(D0));
    assert.equal(full.report.dateRange.endDatetime, '2026-11-27T23:59:59Z');
  });

  for (const limit of [150_000, 40_000, 5_000, 2_000]) {
    it(`fits ${limit} bytes by dropping the smallest details; totals exact`, () => {
      const t = buildReport({ identity, windowStart: D0, windowEnd: D0 + 86400, policies, maxReportSize: limit });
      assert.ok(Buffer.byteLength(t.json) <= limit, `${Buffer.byteLength(t.json)} > ${limit}`);
      assert.ok(t.trimmedDetails > 0);
      const kept = t.report.policies.flatMap((p) => p.failureDetails.map((d) => d.failedSessionCount));
      const dropped = policies.flatMap((p) => p.failureDetails.map((d) => d.failedSessionCount)).sort((a, b) => a - b).slice(0, t.trimmedDetails);
      assert.equal(kept.length + t.trimmedDetails, 1200);
      assert.ok(Math.min(...kept, Infinity) >= Math.max(...dropped), 'every dropped row has a count no larger than every kept one');
      const doc = JSON.parse(t.json);
      doc.policies.forEach((p: any, i: number) => {
        assert.equal(p.summary['total-successful-session-count'], 1000 + i);
        assert.equal(p.summary['total-failure-session-count'], 400 * 401 / 2);
      });
      // No more than needed was dropped: putting back the largest dropped row goes over the limit.
      const keptSets = t.report.policies.map((p) => new Set(p.failureDetails.map((d) => JSON.stringify(d))));
      let best: { p: number; d: (typeof policies)[0]['failureDetails'][0] } | undefined;
      policies.forEach((p, i) => p.failureDetails.forEach((d) => {
        if (!keptSets[i].has(JSON.stringify(d)) && (!best || d.failedSessionCount > best.d.failedSessionCount)) best = { p: i, d };
      }));
      const withOneMore = t.report.policies.map((p, i) => ({
        policy: p.policy, successful: p.summary.totalSuccessfulSessionCount, failed: p.summary.totalFailureSessionCount,
        failureDetails: i === best!.p ? [...p.failureDetails, best!.d] : p.failureDetails,
      }));
      const oneMore = buildReport({ identity, windowStart: D0, windowEnd: D0 + 86400, policies: withOneMore, maxReportSize: 100_000_000 });
      assert.ok(Buffer.byteLength(oneMore.json) > limit, 'trimming dropped more rows than needed');
    });
  }

  it('logs and counts the trimming when the scheduler builds (composeReport reports it)', () => {
    const settings = plainSettings({ maxReportSize: 3000 });
    const c = composeReport({ reportDomain: 'd0.example', windowStart: D0, windowEnd: D0 + 86400, policies }, settings, captureLog().log);
    assert.ok(c.trimmedDetails > 0);
    assert.ok(Buffer.byteLength(c.json) <= 3000);
  });

  it('a report that cannot fit even without details is still sent whole, flagged overLimit', () => {
    const t = buildReport({ identity, windowStart: D0, windowEnd: D0 + 86400, policies, maxReportSize: 200 });
    assert.equal(t.overLimit, true);
    assert.equal(t.trimmedDetails, 1200);
    assert.equal(t.report.policies.length, 3);
  });
});

/**
 * @module test/sending/aggregation-property — property tests with real oracles (issue 11):
 * aggregation — random events, flushes and window closes interleaved: the counts stored per key
 * (report domain, policy, failure detail) equal the events sent, on SQLite and PostgreSQL;
 * trimming to maxReportSize — totals exact, the smallest rows dropped first, result ≤ limit.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forEachStore } from '../support/stores.js';
import { Aggregator } from '../../src/sending/collect/aggregate.js';
import type { TlsSessionOutcome } from '../../src/sending/collect/event.js';
import { buildReport, type WindowPolicyCounts } from '../../src/sending/report/report-builder.js';
import type { FailureDetail } from '../../src/rfc8460/types.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 27, 0);

type Step =
  | { kind: 'event'; domain: number; policy: number; failed: boolean; detail: number; hour: number }
  | { kind: 'flush' }
  | { kind: 'close' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('event' as const), domain: fc.nat(1), policy: fc.nat(2), failed: fc.boolean(), detail: fc.nat(2), hour: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
);

/** Policy 2 is a DANE policy of the MX host: it must still count under the report domain. */
function outcome(run: number, s: Extract<Step, { kind: 'event' }>): TlsSessionOutcome {
  const d = `d${s.domain}.r${run}.example`;
  const policyDomain = s.policy === 2 ? `mx1.${d}` : d;
  return {
    recipientDomain: d,
    policies: [{
      policy: { policyType: s.policy === 2 ? 'tlsa' : 'sts', policyDomain, policyString: [`p${s.policy}`], mxHost: [] },
      failed: s.failed,
      failureDetails: s.failed ? [{ resultType: 'certificate-expired', receivingIp: `192.0.2.${s.detail}` }] : [],
    }],
  };
}

forEachStore('aggregation property', (open) => {
  it('stored counts per key equal the events sent, whatever the flushes and window closes between them', async () => {
    const store = await open();
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 80 }), async (steps) => {
      run++;
      let now = T0;
      const agg = new Aggregator({ store, sendFrequency: () => 'hourly', clock: () => now });
      const want = new Map<string, number>();
      const bump = (k: string, n = 1) => want.set(k, (want.get(k) ?? 0) + n);
      for (const s of steps) {
        if (s.kind === 'flush') await agg.flush();
        else if (s.kind === 'close') {
          await agg.flush();
          await store.db.updateTable('outbound_window').set({ state: 'closed', closed_at: 0 }).where('state', '=', 'open').execute();
        } else {
          now = T0 + s.hour * HOUR;
          assert.equal(agg.add(outcome(run, s)), undefined);
          const d = `d${s.domain}.r${run}.example`;
          bump(`${d}|p${s.policy}|${s.failed ? 'failed' : 'ok'}`);
          if (s.failed) bump(`${d}|p${s.policy}|192.0.2.${s.detail}`);
        }
      }
      await agg.flush();
      const rows = await store.db.selectFrom('outbound_policy as p').innerJoin('outbound_window as w', 'w.id', 'p.window_id')
        .select(['w.report_domain', 'p.policy_json', 'p.successful', 'p.failed', 'p.window_id', 'p.fingerprint'])
        .where('w.report_domain', 'like', `%.r${run}.example`).execute();
      const got = new Map<string, number>();
      const add = (k: string, n: number) => n && got.set(k, (got.get(k) ?? 0) + n);
      for (const r of rows) {
        const policy = JSON.parse(r.policy_json) as { policyString: string[]; policyDomain: string };
        add(`${r.report_domain}|${policy.policyString[0]}|ok`, Number(r.successful));
        add(`${r.report_domain}|${policy.policyString[0]}|failed`, Number(r.failed));
        const details = await store.db.selectFrom('outbound_failure').select(['detail_json', 'count'])
          .where('window_id', '=', r.window_id).where('fingerprint', '=', r.fingerprint).execute();
        for (const f of details) add(`${r.report_domain}|${policy.policyString[0]}|${(JSON.parse(f.detail_json) as { receivingIp: string }).receivingIp}`, Number(f.count));
      }
      assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...want].sort()));
    }), { numRuns: 25 });
  });
});

describe('trimming property (maxReportSize)', () => {
  const detail = fc.record({ count: fc.integer({ min: 1, max: 1000 }), ip: fc.nat(255), text: fc.string({ maxLength: 40 }) });
  const policies = fc.array(fc.array(detail, { maxLength: 40 }), { minLength: 1, maxLength: 4 });
  it('keeps totals exact, drops the smallest rows first, and fits the limit unless even no details would not', () => {
    fc.assert(fc.property(policies, fc.integer({ min: 200, max: 20_000 }), (ps, limit) => {
      const input: WindowPolicyCounts[] = ps.map((ds, i) => {
        const failureDetails: FailureDetail[] = ds.map((d) => ({ resultType: 'certificate-expired', receivingIp: `192.0.2.${d.ip}`, additionalInformation: d.text, failedSessionCount: d.count }));
        return {
          policy: { policyType: 'sts', policyDomain: `p${i}.example`, policyString: ['version: STSv1'], mxHost: [] },
          successful: 7 * i, failed: failureDetails.reduce((n, d) => n + d.failedSessionCount, 0), failureDetails,
        };
      });
      const built = buildReport({ identity: { organizationName: 'o', contactInfo: 'c@example.com', reportId: 'r' }, windowStart: 0, windowEnd: 86400, policies: input, maxReportSize: limit });
      const bytes = Buffer.byteLength(built.json);
      // Totals never change, whatever was dropped.
      built.report.policies.forEach((p, i) => {
        assert.equal(p.summary.totalSuccessfulSessionCount, input[i].successful);
        assert.equal(p.summary.totalFailureSessionCount, input[i].failed);
      });
      const all = input.flatMap((p) => p.failureDetails);
      const kept = built.report.policies.flatMap((p) => p.failureDetails);
      assert.equal(all.length - kept.length, built.trimmedDetails);
      if (!built.overLimit) assert.ok(bytes <= limit, `${bytes} > ${limit}`);
      else {
        const bare = buildReport({ identity: { organizationName: 'o', contactInfo: 'c@example.com', reportId: 'r' }, windowStart: 0, windowEnd: 86400, policies: input.map((p) => ({ ...p, failureDetails: [] })), maxReportSize: 0 });
        assert.ok(Buffer.byteLength(bare.json) > limit, 'over the limit only when even no details would not fit');
      }
      if (built.trimmedDetails > 0) {
        // Smallest first: no kept row has a smaller count than a dropped one.
        const keptCounts = kept.map((d) => d.failedSessionCount);
        const keptMultiset = new Map<number, number>();
        for (const c of keptCounts) keptMultiset.set(c, (keptMultiset.get(c) ?? 0) + 1);
        const dropped: number[] = [];
        for (const d of all) {
          const n = keptMultiset.get(d.failedSessionCount) ?? 0;
          if (n > 0) keptMultiset.set(d.failedSessionCount, n - 1);
          else dropped.push(d.failedSessionCount);
        }
        assert.ok(Math.max(...dropped) <= Math.min(...keptCounts, Infinity), `dropped ${Math.max(...dropped)} while keeping ${Math.min(...keptCounts)}`);
      } else assert.equal(built.json, buildReport({ identity: { organizationName: 'o', contactInfo: 'c@example.com', reportId: 'r' }, windowStart: 0, windowEnd: 86400, policies: input, maxReportSize: 0 }).json);
    }), { numRuns: 300 });
  });
});

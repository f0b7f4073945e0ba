/**
 * Issue 10 item 4: one report with huge counts (1,100 policies at 2^53 − 1) must not break the
 * inbound summary on either store: each count is clamped to 2^31 − 1 with a finding, and the
 * sums stay exact.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { createIngestor } from '../../src/receiving/pipeline/ingest.js';
import { inboundSummary } from '../../src/analysis/inbound-summary.js';
import { silentLog } from '../../src/common/log.js';
import { MAX_SESSION_COUNT } from '../../src/rfc8460/values.js';

const big = Number.MAX_SAFE_INTEGER;
const report = (id: string) => JSON.stringify({
  'organization-name': id, 'contact-info': 'a@overflow.example', 'report-id': id,
  'date-range': { 'start-datetime': '2026-11-01T00:00:00Z', 'end-datetime': '2026-11-01T23:59:59Z' },
  policies: Array.from({ length: 1100 }, () => ({
    policy: { 'policy-type': 'no-policy-found', 'policy-domain': 'example.com' },
    summary: { 'total-successful-session-count': big, 'total-failure-session-count': big },
    'failure-details': [{ 'result-type': 'certificate-expired', 'failed-session-count': big }],
  })),
});

forEachStore('session counts', (open) => {
  it('clamps counts to 2^31 − 1 with a finding; the summary over 2 × 1,100 policies at the maximum answers with exact sums', async () => {
    const store = await open();
    const ingestor = createIngestor({ store, log: silentLog });
    for (const id of ['overflow-1', 'overflow-2']) {
      const [o] = await ingestor.ingest(Buffer.from(report(id)), { channel: 'http', peer: '192.0.2.1', receivedAt: 1_790_000_000 });
      assert.equal(o.status, 'imported', o.reason);
    }
    const findings = await store.db.selectFrom('inbound_finding').select('code').where('code', '=', 'count-too-large').execute();
    assert.ok(findings.length >= 1000, `count-too-large findings: ${findings.length}`);
    const s = await inboundSummary(store, {});
    assert.equal(s.totals.length, 1);
    assert.equal(s.totals[0].successful, 2 * 1100 * MAX_SESSION_COUNT);
    assert.equal(s.totals[0].failed, 2 * 1100 * MAX_SESSION_COUNT);
    assert.equal(s.byResultType[0].failed, 2 * 1100 * MAX_SESSION_COUNT);
    assert.ok(Number.isSafeInteger(s.totals[0].successful));
  });
});

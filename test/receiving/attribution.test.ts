/**
 * Issue 10 item 3: a forged report must neither replace a real one nor be filed under another
 * reporter. Attribution needs a passing DKIM signature aligned with the contact-info (or
 * submitter) domain that IS the reporter; an unverified copy never suppresses a verified one,
 * and summaries and the API say which reports are verified.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { saveInboundReport } from '../../src/receiving/persist/inbound-store.js';
import { isAttributed } from '../../src/receiving/pipeline/ingest.js';
import { inboundSummary } from '../../src/analysis/inbound-summary.js';
import { listInboundReports } from '../../src/analysis/inbound-reports.js';
import { makeReport } from './support/reports.js';

const google = parseReport(makeReport({ submitter: 'google.com', policyDomain: 'example.org', reportId: '2026-11-20T00:00:00Z_example.org' })).report;
const pass = (signingDomain: string, alignedWith: 'contact-info' | 'tls-report-submitter' | 'from') =>
  ({ result: 'pass' as const, signingDomain, aligned: true, alignedWith, signatures: [] });

describe('isAttributed', () => {
  it('only a passing signature aligned with contact-info or submitter, by the reporter itself', () => {
    assert.equal(isAttributed(pass('google.com', 'contact-info'), google), true);
    assert.equal(isAttributed(pass('mail.google.com', 'tls-report-submitter'), google), true);
    assert.equal(isAttributed(pass('evil.test', 'tls-report-submitter'), google), false, 'signed by evil.test, filed as google.com');
    assert.equal(isAttributed(pass('evil.test', 'from'), google), false);
    assert.equal(isAttributed({ ...pass('google.com', 'contact-info'), result: 'fail' }, google), false);
    assert.equal(isAttributed(undefined, google), false, 'an HTTPS POST is unauthenticated');
  });
});

forEachStore('attribution', (open) => {
  it('a forged unverified copy does not make the signed report a duplicate; it is replaced, and later copies are duplicates', async () => {
    const store = await open();
    const raw = Buffer.from(JSON.stringify(google));
    const forged = await saveInboundReport(store, { raw, report: google, findings: [], channel: 'http', receivedAt: 1_790_000_000 });
    assert.equal(forged.status, 'stored');
    const real = await saveInboundReport(store, { raw, report: google, findings: [], channel: 'smtp', receivedAt: 1_790_000_100, verified: true,
      dkim: { result: 'pass', domain: 'google.com', aligned: true, alignedWith: 'contact-info' } });
    assert.equal(real.status, 'stored', 'the signed report is stored, not a duplicate of the forgery');
    const again = await saveInboundReport(store, { raw, report: google, findings: [], channel: 'http', receivedAt: 1_790_000_200 });
    assert.deepEqual([again.status, again.id], ['duplicate', real.id]);
    const rows = await store.db.selectFrom('inbound_report').select(['id', 'verified']).execute();
    assert.deepEqual(rows.map((r) => [Number(r.id), Number(r.verified)]), [[real.id, 1]]);
    const list = await listInboundReports(store, {});
    assert.equal(list.reports[0].verified, true);
    const s = await inboundSummary(store, {});
    assert.deepEqual([s.rows[0].reports, s.rows[0].verifiedReports], [1, 1]);
  });

  it('unverified reports are counted as such', async () => {
    const store = await open();
    await saveInboundReport(store, { raw: Buffer.from('{}'), report: google, findings: [], channel: 'http', receivedAt: 1_790_000_000 });
    const s = await inboundSummary(store, {});
    assert.deepEqual([s.rows[0].reports, s.rows[0].verifiedReports], [1, 0]);
    assert.equal((await listInboundReports(store, {})).reports[0].verified, false);
  });
});

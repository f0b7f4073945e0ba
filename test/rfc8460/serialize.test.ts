/** @module test/rfc8460/serialize — RFC-exact output pinned by golden files; parse(serialize(x)) == x */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isRegisteredResultType, parseReport, serializeReport, toRfcJson, type TlsReport } from '../../src/rfc8460/index.js';
import { tlsReport, tlsReportWithExtras } from './arbitraries.js';

const GOLDEN = new URL('./golden/', import.meta.url);
const FIXTURES = new URL('../fixtures/reports/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Compares with test/rfc8460/golden/<name>; UPDATE_GOLDEN=1 re-records it. */
function golden(name: string, actual: string): void {
  const file = new URL(name, GOLDEN);
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(file, 'utf8');
  } catch {
    assert.fail(`golden file ${name} is missing: run with UPDATE_GOLDEN=1 to record it`);
  }
  assert.equal(actual, expected, `${name} differs; if the change is intended, re-record with UPDATE_GOLDEN=1`);
}

const fixture = (name: string) => parseReport(readFileSync(new URL(name, FIXTURES))).report;

/** Every key of the output, depth-first, to check names and order independently of the golden bytes. */
function keyPaths(v: unknown, path = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((e) => keyPaths(e, path + '[]'));
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, e]) => [path + '.' + k, ...keyPaths(e, path + '.' + k)]);
}

const quirky: TlsReport = {
  organizationName: 'Quirky MTA',
  dateRange: { startDatetime: '2024-05-01T00:00:00Z', endDatetime: '2024-05-01T23:59:59Z' },
  reportId: 'q-1',
  policies: [{
    policy: { policyType: 'tlsa', policyString: ['3 1 1 AB'], policyDomain: 'mx.example.net', mxHost: [], extra: { 'x-note': 1 } },
    summary: { totalSuccessfulSessionCount: 7.9, totalFailureSessionCount: 3 },
    failureDetails: [
      { resultType: 'Testing', failedSessionCount: 1 },
      { resultType: 'tlsa-invalid', failedSessionCount: 2, sendingMtaIp: '', receivingIp: '192.0.2.7', extra: { 'additional-info-uri': 'https://x.example/1', 'result-type': 'ignored' } },
    ],
  }],
  extra: { 'x-sender': 'kept only with includeExtra' },
};

describe('serializeReport: RFC-exact JSON (RFC 8460 §4.4)', () => {
  it('RFC 8460 Appendix B sample (mx-host written as an array)', () => golden('rfc8460.json', serializeReport(fixture('parsedmarc__rfc8460.json')) + '\n'));
  it('Microsoft sts + tlsa (decoded policy-string, empty mx-host array)', () => golden('microsoft.json', serializeReport(fixture('dmarc-report-viewer__microsoft.json')) + '\n'));
  it('no contact-info: omitted, never null; mx: prefix gone', () => golden('no-contact.json', serializeReport(fixture('dmarc-report-viewer__no-contact.json')) + '\n'));
  it('missing policy-domain written as filled; missing counters as 0', () => golden('rpt03.json', serializeReport(fixture('stalwart-mail-auth__rpt03.json')) + '\n'));
  it('empty detail fields are omitted', () => golden('empty-fields.json', serializeReport(fixture('parsedmarc__empty_failure_detail_fields.json')) + '\n'));
  it('unknown result types dropped, counts integers, extras only on request', () => {
    golden('quirky.json', serializeReport(quirky) + '\n');
    golden('quirky-extra.json', serializeReport(quirky, { includeExtra: true }) + '\n');
  });

  it('writes keys in the RFC order, no null anywhere', () => {
    const out = toRfcJson(fixture('dmarc-report-viewer__rfc-example.json'));
    assert.deepEqual([...new Set(keyPaths(out))], [
      '.organization-name', '.date-range', '.date-range.start-datetime', '.date-range.end-datetime', '.contact-info', '.report-id', '.policies',
      '.policies[].policy', '.policies[].policy.policy-type', '.policies[].policy.policy-string', '.policies[].policy.policy-domain', '.policies[].policy.mx-host',
      '.policies[].summary', '.policies[].summary.total-successful-session-count', '.policies[].summary.total-failure-session-count',
      '.policies[].failure-details', '.policies[].failure-details[].result-type', '.policies[].failure-details[].sending-mta-ip',
      '.policies[].failure-details[].receiving-mx-hostname', '.policies[].failure-details[].failed-session-count',
      '.policies[].failure-details[].receiving-ip', '.policies[].failure-details[].additional-information', '.policies[].failure-details[].failure-reason-code',
    ]);
    assert.doesNotMatch(serializeReport(quirky, { includeExtra: true }), /null/);
  });

  it('parse(serialize(x)) deep-equals x for generated valid reports', () => {
    const allowed = new Set(['window-not-utc-day', 'detail-sum-mismatch', 'missing-contact-info', 'missing-policy-string', 'empty-policies', 'missing-failure-details']);
    fc.assert(fc.property(tlsReport, (report) => {
      const { report: back, findings } = parseReport(serializeReport(report));
      assert.deepStrictEqual(back, report);
      for (const f of findings) assert.ok(allowed.has(f.code), `unexpected finding for valid data: ${f.code} ${f.path} ${f.message}`);
    }), { numRuns: 500 });
  });

  it('includeExtra is lossless: extras and unknown result types come back', () => {
    fc.assert(fc.property(tlsReportWithExtras, (report) => {
      assert.deepStrictEqual(parseReport(serializeReport(report, { includeExtra: true })).report, report);
      const strict = JSON.parse(serializeReport(report));
      for (const p of strict.policies) for (const d of p['failure-details']) assert.ok(isRegisteredResultType(d['result-type']));
    }), { numRuns: 300 });
  });

  it('serialize(parse(serialize(x))) is byte-stable', () => {
    fc.assert(fc.property(tlsReport, (report) => {
      const once = serializeReport(report);
      assert.equal(serializeReport(parseReport(once).report), once);
    }), { numRuns: 200 });
  });
});

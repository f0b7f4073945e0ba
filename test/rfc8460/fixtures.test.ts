/** @module test/rfc8460/fixtures — every real-world sample parses, with findings and totals written out by hand */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parseReport, type TlsReport } from '../../src/rfc8460/index.js';

const DIR = new URL('../fixtures/reports/', import.meta.url);

/** The JSON inside a sample e-mail: the application/* part, base64-decoded and gunzipped if needed. */
function attachmentOf(eml: string): Uint8Array {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(eml)?.[1];
  assert.ok(boundary, 'sample e-mail has a multipart boundary');
  const part = eml.split('--' + boundary).find((p) => /content-type:\s*application\//i.test(p));
  assert.ok(part, 'sample e-mail has an application/* part');
  const split = part.search(/\r?\n\r?\n/);
  const headers = part.slice(0, split);
  let body: Buffer = Buffer.from(part.slice(split).trim(), /base64/i.test(headers) ? 'base64' : 'utf8');
  if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
  return body;
}

function load(name: string): Uint8Array {
  const bytes = readFileSync(new URL(name, DIR));
  return name.endsWith('.eml') ? attachmentOf(bytes.toString('latin1')) : bytes;
}

interface Expected {
  successful: number;
  failed: number;
  /** `code@path`, in the order the parser reports them. */
  findings: string[];
  check?: (r: TlsReport) => void;
}

// Counted by reading each file (see SOURCES.md for what is special about each).
const EXPECTED: Record<string, Expected> = {
  'dmarc-report-viewer__google.json': {
    successful: 1, failed: 0,
    findings: ['missing-failure-details@policies[0].failure-details'],
    check: (r) => assert.deepEqual(r.policies[0].policy.mxHost, ['*.foo-bar.io']),
  },
  'dmarc-report-viewer__microsoft.json': {
    successful: 4, failed: 0,
    findings: [
      'missing-failure-details@policies[0].failure-details',
      'policy-string-json-encoded@policies[1].policy.policy-string',
      'missing-failure-details@policies[1].failure-details',
    ],
    check: (r) => {
      assert.deepEqual(r.policies[1].policy.policyString, [
        '3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A33F9EF3040C8B7C285BC',
        '3 1 1 837C773D54C2E2BD71871A3FC352BE8214D5646CBAE5E3091401A7274717998B',
      ]);
      assert.equal(r.policies[1].policy.policyType, 'tlsa');
      assert.equal(r.reportId, '133925885310113267+random.net');
    },
  },
  'dmarc-report-viewer__no-contact.json': {
    successful: 1, failed: 0,
    findings: ['window-not-utc-day@date-range', 'null-contact-info@contact-info', 'mx-host-prefixed@policies[0].policy.mx-host'],
    check: (r) => {
      assert.equal('contactInfo' in r, false);
      assert.deepEqual(r.policies[0].policy.mxHost, ['mx.server.com']);
      assert.equal(r.dateRange.endDatetime, '2026-01-12T00:00:00Z');
    },
  },
  'dmarc-report-viewer__no-policy.json': {
    successful: 1, failed: 0,
    findings: ['missing-failure-details@policies[0].failure-details'],
    check: (r) => assert.deepEqual(r.policies[0].policy, { policyType: 'no-policy-found', policyString: [], policyDomain: 'foo-bar.io', mxHost: [] }),
  },
  'dmarc-report-viewer__no_ip_and_mx.json': {
    successful: 0, failed: 3,
    findings: ['missing-policy-string@policies[0].policy.policy-string'],
    check: (r) => {
      assert.deepEqual(r.policies[0].failureDetails, [{ resultType: 'sts-policy-fetch-error', failedSessionCount: 3 }]);
      assert.equal(r.reportId, '1234567890+');
    },
  },
  'dmarc-report-viewer__rfc-example.json': { successful: 5326, failed: 303, findings: [] },
  'parsedmarc__empty_failure_detail_fields.json': {
    successful: 0, failed: 1,
    findings: [
      'empty-field@policies[0].failure-details[0].sending-mta-ip',
      'empty-field@policies[0].failure-details[0].receiving-ip',
      'empty-field@policies[0].failure-details[0].receiving-mx-hostname',
      'empty-field@policies[0].failure-details[0].additional-information',
    ],
    check: (r) => assert.deepEqual(r.policies[0].failureDetails, [{ resultType: 'sts-policy-fetch-error', failedSessionCount: 1, failureReasonCode: 'no-policy-served' }]),
  },
  'parsedmarc__google.com_smtp_tls_report.eml': {
    successful: 48, failed: 0,
    findings: ['missing-failure-details@policies[0].failure-details'],
    check: (r) => assert.equal(r.reportId, '2024-09-03T00:00:00Z_cardinalhealth.ca'),
  },
  'parsedmarc__mail.ru.json': {
    successful: 0, failed: 1,
    findings: ['window-not-utc-day@date-range', 'missing-policy-string@policies[0].policy.policy-string', 'detail-sum-mismatch@policies[0].failure-details'],
    check: (r) => {
      assert.deepEqual(r.dateRange, { startDatetime: '2024-02-22T00:00:00Z', endDatetime: '2024-02-23T00:00:00Z' });
      assert.deepEqual(r.policies[0].failureDetails.map((d) => d.failureReasonCode), ['bad https response code: 404', 'bad https response code: 500']);
    },
  },
  'parsedmarc__rfc8460.json': {
    successful: 5326, failed: 303,
    findings: ['mx-host-string@policies[0].policy.mx-host'],
    check: (r) => assert.deepEqual(r.policies[0].policy.mxHost, ['*.mail.company-y.example']),
  },
  'parsedmarc__smtp_tls.json': { successful: 0, failed: 3, findings: [] },
  'stalwart-mail-auth__rpt01.eml': { successful: 5326, failed: 303, findings: [] },
  'stalwart-mail-auth__rpt01.json': { successful: 5326, failed: 303, findings: [] },
  'stalwart-mail-auth__rpt02.eml': { successful: 23, failed: 1, findings: ['window-not-utc-day@date-range'] },
  'stalwart-mail-auth__rpt02.json': { successful: 23, failed: 1, findings: ['window-not-utc-day@date-range'] },
  'stalwart-mail-auth__rpt03.json': {
    successful: 2, failed: 0,
    findings: [
      'missing-summary-counter@policies[0].summary.total-failure-session-count',
      'missing-failure-details@policies[0].failure-details',
      'unknown-policy-type@policies[1].policy.policy-type',
      'missing-policy-string@policies[1].policy.policy-string',
      'missing-summary-counter@policies[1].summary.total-failure-session-count',
      'missing-failure-details@policies[1].failure-details',
      'missing-policy-domain@policies[0].policy.policy-domain',
      'missing-policy-domain@policies[1].policy.policy-domain',
    ],
    // The report-id "2019-04-14T00:00:00Z_example.org" names the policy domain (Google's format).
    check: (r) => assert.deepEqual(r.policies.map((p) => [p.policy.policyType, p.policy.policyDomain]), [['no-policy-found', 'example.org'], ['invalid-policy-type', 'example.org']]),
  },
};

describe('real-world samples (test/fixtures/reports)', () => {
  it('has an expectation for every sample file', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json') || f.endsWith('.eml')).sort();
    assert.deepEqual(files, Object.keys(EXPECTED).sort());
  });

  for (const [name, want] of Object.entries(EXPECTED)) {
    it(name, () => {
      const { report, findings } = parseReport(load(name));
      const successful = report.policies.reduce((n, p) => n + p.summary.totalSuccessfulSessionCount, 0);
      const failed = report.policies.reduce((n, p) => n + p.summary.totalFailureSessionCount, 0);
      assert.deepEqual([successful, failed], [want.successful, want.failed], 'summary totals');
      assert.deepEqual(findings.map((f) => `${f.code}@${f.path}`), want.findings);
      for (const f of findings) assert.ok(f.message.length > 0, `finding ${f.code} has a message`);
      for (const p of report.policies) assert.notEqual(p.policy.policyDomain, '', 'policy-domain is always filled');
      assert.match(report.dateRange.startDatetime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(report.dateRange.endDatetime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      want.check?.(report);
    });
  }
});

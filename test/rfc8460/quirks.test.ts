/** @module test/rfc8460/quirks — each deviation of docs/spec/quirks.md is accepted and named; only non-reports are rejected */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReport, ReportError, serializeReport, type Finding } from '../../src/rfc8460/index.js';

/** A conformant RFC 8460 report, as JSON data; each test edits a copy. */
function base(): any {
  return {
    'organization-name': 'Example Org',
    'date-range': { 'start-datetime': '2024-05-01T00:00:00Z', 'end-datetime': '2024-05-01T23:59:59Z' },
    'contact-info': 'tlsrpt@example.org',
    'report-id': '2024-05-01T00:00:00Z_example.net',
    policies: [{
      policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', 'mx: mx.example.net', 'max_age: 86400'], 'policy-domain': 'example.net', 'mx-host': ['mx.example.net'] },
      summary: { 'total-successful-session-count': 10, 'total-failure-session-count': 2 },
      'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.1', 'receiving-mx-hostname': 'mx.example.net', 'receiving-ip': '2001:db8::25', 'failed-session-count': 2 }],
    }],
  };
}

function parse(doc: unknown) {
  return parseReport(JSON.stringify(doc));
}

function codes(findings: Finding[]): string[] {
  return findings.map((f) => `${f.code}@${f.path}`);
}

function rejects(input: string | Uint8Array, code: string, options?: { maxDepth?: number }): void {
  assert.throws(() => parseReport(input, options), (e: unknown) => e instanceof ReportError && e.code === code && e.message.length > 0);
}

const P = 'policies[0]';
const D = 'policies[0].failure-details[0]';

describe('lenient parser: docs/spec/quirks.md deviations become findings', () => {
  it('reads a conformant report without findings', () => {
    const { report, findings } = parse(base());
    assert.deepEqual(findings, []);
    assert.deepEqual(report, {
      organizationName: 'Example Org',
      dateRange: { startDatetime: '2024-05-01T00:00:00Z', endDatetime: '2024-05-01T23:59:59Z' },
      contactInfo: 'tlsrpt@example.org',
      reportId: '2024-05-01T00:00:00Z_example.net',
      policies: [{
        policy: { policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce', 'mx: mx.example.net', 'max_age: 86400'], policyDomain: 'example.net', mxHost: ['mx.example.net'] },
        summary: { totalSuccessfulSessionCount: 10, totalFailureSessionCount: 2 },
        failureDetails: [{ resultType: 'certificate-expired', sendingMtaIp: '192.0.2.1', receivingMxHostname: 'mx.example.net', receivingIp: '2001:db8::25', failedSessionCount: 2 }],
      }],
    });
  });

  const cases: [string, (d: any) => void, string[], ((r: any) => void)?][] = [
    ['mx-host as a string', (d) => { d.policies[0].policy['mx-host'] = 'mx.example.net'; }, [`mx-host-string@${P}.policy.mx-host`], (r) => assert.deepEqual(r.policies[0].policy.mxHost, ['mx.example.net'])],
    ['mx-host values prefixed "mx: "', (d) => { d.policies[0].policy['mx-host'] = ['mx: a.example.net', 'MX:b.example.net']; }, [`mx-host-prefixed@${P}.policy.mx-host`], (r) => assert.deepEqual(r.policies[0].policy.mxHost, ['a.example.net', 'b.example.net'])],
    ['mx-host absent', (d) => { delete d.policies[0].policy['mx-host']; }, [], (r) => assert.deepEqual(r.policies[0].policy.mxHost, [])],
    ['mx-host null', (d) => { d.policies[0].policy['mx-host'] = null; }, [`null-optional-field@${P}.policy.mx-host`]],
    ['policy-string absent', (d) => { delete d.policies[0].policy['policy-string']; }, [`missing-policy-string@${P}.policy.policy-string`], (r) => assert.deepEqual(r.policies[0].policy.policyString, [])],
    ['policy-string []', (d) => { d.policies[0].policy['policy-string'] = []; }, [`missing-policy-string@${P}.policy.policy-string`]],
    ['policy-string JSON-encoded in one string', (d) => { d.policies[0].policy['policy-type'] = 'tlsa'; d.policies[0].policy['policy-string'] = ['["3 1 1 AB","2 0 1 CD"]']; }, [`policy-string-json-encoded@${P}.policy.policy-string`], (r) => assert.deepEqual(r.policies[0].policy.policyString, ['3 1 1 AB', '2 0 1 CD'])],
    ['policy-string JSON-encoded, not in an array', (d) => { d.policies[0].policy['policy-string'] = '["3 1 1 AB"]'; }, [`policy-string-json-encoded@${P}.policy.policy-string`], (r) => assert.deepEqual(r.policies[0].policy.policyString, ['3 1 1 AB'])],
    ['policy-string one plain string', (d) => { d.policies[0].policy['policy-string'] = 'version: STSv1\nmode: testing'; }, [`policy-string-string@${P}.policy.policy-string`], (r) => assert.deepEqual(r.policies[0].policy.policyString, ['version: STSv1', 'mode: testing'])],
    ['a nested array in a policy-string is not decoded', (d) => { d.policies[0].policy['policy-string'] = ['[["x"]]']; }, [], (r) => assert.deepEqual(r.policies[0].policy.policyString, ['[["x"]]'])],
    ['policy-domain missing: filled from another policy', (d) => {
      d.policies.push({ policy: { 'policy-type': 'no-policy-found' }, summary: { 'total-successful-session-count': 1, 'total-failure-session-count': 0 }, 'failure-details': [] });
    }, ['missing-policy-domain@policies[1].policy.policy-domain'], (r) => assert.equal(r.policies[1].policy.policyDomain, 'example.net')],
    ['policy-domain missing: filled from the report-id tail', (d) => { delete d.policies[0].policy['policy-domain']; d['report-id'] = '133708152202987951+example.com'; }, [`missing-policy-domain@${P}.policy.policy-domain`], (r) => assert.equal(r.policies[0].policy.policyDomain, 'example.com')],
    ['policy-domain missing on tlsa: filled from mx-host', (d) => {
      const p = d.policies[0].policy; delete p['policy-domain']; p['policy-type'] = 'tlsa'; p['policy-string'] = ['3 1 1 AB']; p['mx-host'] = ['mx.dane.example']; d['report-id'] = 'uuid-without-domain';
    }, [`missing-policy-domain@${P}.policy.policy-domain`], (r) => assert.equal(r.policies[0].policy.policyDomain, 'mx.dane.example')],
    ['policy-domain missing, no source: ""', (d) => { delete d.policies[0].policy['policy-domain']; d['report-id'] = 'abc'; }, [`missing-policy-domain@${P}.policy.policy-domain`], (r) => assert.equal(r.policies[0].policy.policyDomain, '')],
    ['contact-info null', (d) => { d['contact-info'] = null; }, ['null-contact-info@contact-info'], (r) => assert.equal('contactInfo' in r, false)],
    ['contact-info missing', (d) => { delete d['contact-info']; }, ['missing-contact-info@contact-info']],
    ['contact-info ""', (d) => { d['contact-info'] = ''; }, ['empty-field@contact-info']],
    ['detail fields null', (d) => { Object.assign(d.policies[0]['failure-details'][0], { 'sending-mta-ip': null, 'receiving-ip': null, 'receiving-mx-hostname': null, 'receiving-mx-helo': null }); },
      [`null-optional-field@${D}.sending-mta-ip`, `null-optional-field@${D}.receiving-mx-hostname`, `null-optional-field@${D}.receiving-ip`, `null-optional-field@${D}.receiving-mx-helo`],
      (r) => assert.deepEqual(r.policies[0].failureDetails[0], { resultType: 'certificate-expired', failedSessionCount: 2 })],
    ['detail fields ""', (d) => { Object.assign(d.policies[0]['failure-details'][0], { 'sending-mta-ip': '', 'failure-reason-code': '' }); }, [`empty-field@${D}.sending-mta-ip`, `empty-field@${D}.failure-reason-code`]],
    ['placeholder IP x.x.x.x', (d) => { d.policies[0]['failure-details'][0]['sending-mta-ip'] = 'x.x.x.x'; }, [`invalid-ip@${D}.sending-mta-ip`], (r) => assert.equal(r.policies[0].failureDetails[0].sendingMtaIp, 'x.x.x.x')],
    ['IP 256.1.1.1', (d) => { d.policies[0]['failure-details'][0]['receiving-ip'] = '256.1.1.1'; }, [`invalid-ip@${D}.receiving-ip`]],
    ['failure-details absent', (d) => { delete d.policies[0]['failure-details']; d.policies[0].summary['total-failure-session-count'] = 0; }, [`missing-failure-details@${P}.failure-details`], (r) => assert.deepEqual(r.policies[0].failureDetails, [])],
    ['summary counter missing', (d) => { delete d.policies[0].summary['total-successful-session-count']; }, [`missing-summary-counter@${P}.summary.total-successful-session-count`], (r) => assert.equal(r.policies[0].summary.totalSuccessfulSessionCount, 0)],
    ['summary missing', (d) => { delete d.policies[0].summary; }, [`missing-summary-counter@${P}.summary`, `detail-sum-mismatch@${P}.failure-details`]],
    ['detail counts add up to more than the total', (d) => { d.policies[0]['failure-details'].push({ 'result-type': 'validation-failure', 'failed-session-count': 1 }); }, [`detail-sum-mismatch@${P}.failure-details`]],
    ['detail counts add up to less than the total', (d) => { d.policies[0].summary['total-failure-session-count'] = 5; }, [`detail-sum-mismatch@${P}.failure-details`]],
    ['date-times without zone: read as UTC', (d) => { d['date-range'] = { 'start-datetime': '2023-01-10T00:00:00', 'end-datetime': '2023-01-10T23:59:59' }; },
      ['datetime-without-zone@date-range.start-datetime', 'datetime-without-zone@date-range.end-datetime'],
      (r) => assert.deepEqual(r.dateRange, { startDatetime: '2023-01-10T00:00:00Z', endDatetime: '2023-01-10T23:59:59Z' })],
    ['date-times with offsets and fractions: converted to UTC seconds', (d) => { d['date-range'] = { 'start-datetime': '2024-05-01T02:00:00.123+02:00', 'end-datetime': '2024-05-01t23:59:59.999z' }; },
      ['datetime-not-utc@date-range.start-datetime'],
      (r) => assert.deepEqual(r.dateRange, { startDatetime: '2024-05-01T00:00:00Z', endDatetime: '2024-05-01T23:59:59Z' })],
    ['invalid date-time kept as given', (d) => { d['date-range']['start-datetime'] = '2024-02-30T00:00:00Z'; }, ['invalid-datetime@date-range.start-datetime'], (r) => assert.equal(r.dateRange.startDatetime, '2024-02-30T00:00:00Z')],
    ['end at next midnight', (d) => { d['date-range']['end-datetime'] = '2024-05-02T00:00:00Z'; }, ['window-not-utc-day@date-range']],
    ['7-day window', (d) => { d['date-range']['end-datetime'] = '2024-05-07T23:59:59Z'; }, ['window-not-utc-day@date-range']],
    ['hourly window', (d) => { d['date-range'] = { 'start-datetime': '2024-05-01T10:00:00Z', 'end-datetime': '2024-05-01T11:00:00Z' }; }, ['window-not-utc-day@date-range']],
    ['unknown policy-type kept', (d) => { d.policies[0].policy['policy-type'] = 'invalid-policy-type'; }, [`unknown-policy-type@${P}.policy.policy-type`], (r) => assert.equal(r.policies[0].policy.policyType, 'invalid-policy-type')],
    ['unknown result-type kept', (d) => { d.policies[0]['failure-details'][0]['result-type'] = 'Testing'; }, [`unknown-result-type@${D}.result-type`], (r) => assert.equal(r.policies[0].failureDetails[0].resultType, 'Testing')],
    ['result-type in another case', (d) => { d.policies[0]['failure-details'][0]['result-type'] = 'Certificate-Expired'; }, [`result-type-case@${D}.result-type`], (r) => assert.equal(r.policies[0].failureDetails[0].resultType, 'certificate-expired')],
    ['non-RFC keys kept as extra', (d) => {
      d.policies[0]['failure-details'][0]['additional-info-uri'] = 'https://x.example/1';
      d.policies[0]['failure-details'][0]['failure-error-code'] = 7;
      d['x-sender'] = { v: 1 };
    }, ['extra-field@x-sender', `extra-field@${D}.additional-info-uri`, `extra-field@${D}.failure-error-code`],
      (r) => { assert.deepEqual(r.policies[0].failureDetails[0].extra, { 'additional-info-uri': 'https://x.example/1', 'failure-error-code': 7 }); assert.deepEqual(r.extra, { 'x-sender': { v: 1 } }); }],
    ['a "__proto__" key stays an own extra key', (d) => { d.policies[0]['failure-details'][0] = JSON.parse('{"result-type":"certificate-expired","failed-session-count":2,"__proto__":{"polluted":1}}'); }, [`extra-field@${D}.__proto__`],
      (r) => {
        const x = r.policies[0].failureDetails[0].extra;
        assert.equal(Object.getPrototypeOf(x), Object.prototype);
        assert.deepEqual(Object.keys(x), ['__proto__']);
        assert.match(serializeReport(r, { includeExtra: true }), /"__proto__":\{"polluted":1\}/);
        assert.equal(({} as any).polluted, undefined);
      }],
    ['counts as strings and fractions', (d) => { d.policies[0].summary['total-successful-session-count'] = '10'; d.policies[0]['failure-details'][0]['failed-session-count'] = 2.0000001; },
      [`count-as-string@${P}.summary.total-successful-session-count`, `non-integer-count@${D}.failed-session-count`], (r) => assert.equal(r.policies[0].summary.totalSuccessfulSessionCount, 10)],
    ['a count above 2^31 − 1 is clamped', (d) => { d.policies[0].summary['total-successful-session-count'] = 2 ** 53 - 1; d.policies[0]['failure-details'][0]['failed-session-count'] = '99999999999'; },
      [`count-too-large@${P}.summary.total-successful-session-count`, `count-too-large@${D}.failed-session-count`, `detail-sum-mismatch@${P}.failure-details`], (r) => assert.equal(r.policies[0].summary.totalSuccessfulSessionCount, 2 ** 31 - 1)],
    ['negative count', (d) => { d.policies[0].summary['total-successful-session-count'] = -4; }, [`invalid-count@${P}.summary.total-successful-session-count`]],
    ['report-id formats of every kind are kept', (d) => { d['report-id'] = '1768089600_5665abc'; }, [], (r) => assert.equal(r.reportId, '1768089600_5665abc')],
    ['report-id missing but date-range present', (d) => { delete d['report-id']; }, ['missing-report-id@report-id'], (r) => assert.equal(r.reportId, '')],
    ['date-range missing but report-id present', (d) => { delete d['date-range']; }, ['missing-date-range@date-range'], (r) => assert.deepEqual(r.dateRange, { startDatetime: '', endDatetime: '' })],
    ['empty policies', (d) => { d.policies = []; }, ['empty-policies@policies']],
    ['a policies entry that is not an object', (d) => { d.policies.push(7); }, ['wrong-type@policies[1]']],
  ];
  for (const [title, edit, want, check] of cases) {
    it(title, () => {
      const doc = base();
      edit(doc);
      const { report, findings } = parse(doc);
      assert.deepEqual(codes(findings), want);
      check?.(report);
    });
  }

  it('duplicate member names are a finding each, with their path (the last value is read)', () => {
    const text = JSON.stringify(base()).replace('"total-failure-session-count":', '"total-failure-session-count":999,"total-failure-session-count":')
      .replace('"report-id":', '"report-id":"first","report-\\u0069d":');
    const { report, findings } = parseReport(text);
    const dup = findings.filter((f) => f.code === 'duplicate-key').map((f) => f.path);
    assert.deepEqual(dup.sort(), ['policies[0].summary.total-failure-session-count', 'report-id']);
    assert.notEqual(report.policies[0].summary.totalFailureSessionCount, 999);
    assert.deepEqual(parseReport(JSON.stringify(base())).findings.filter((f) => f.code === 'duplicate-key'), []);
  });

  it('reads bytes with a UTF-8 BOM and text with a U+FEFF', () => {
    const json = JSON.stringify(base());
    assert.deepEqual(parseReport(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)])).findings, []);
    assert.deepEqual(parseReport('\ufeff' + json).findings, []);
  });

  it('uses the TLS-Report-Domain hint before guesses from the report', () => {
    const doc = base();
    delete doc.policies[0].policy['policy-domain'];
    assert.equal(parseReport(JSON.stringify(doc), { policyDomainHint: 'hint.example' }).report.policies[0].policy.policyDomain, 'hint.example');
  });
});

describe('lenient parser: rejects only what is not a TLS report', () => {
  it('invalid UTF-8', () => rejects(Buffer.concat([Buffer.from('{"policies":[],"report-id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'invalid-utf8'));
  it('not JSON (a DMARC XML report)', () => rejects('<?xml version="1.0"?><feedback></feedback>', 'invalid-json'));
  it('truncated JSON', () => rejects(JSON.stringify(base()).slice(0, 100), 'invalid-json'));
  it('empty input', () => rejects('', 'invalid-json'));
  it('a JSON array', () => rejects('[1,2]', 'not-a-tls-report'));
  it('JSON null, a number, a string', () => { rejects('null', 'not-a-tls-report'); rejects('3', 'not-a-tls-report'); rejects('"x"', 'not-a-tls-report'); });
  it('an object without policies', () => rejects('{"report-id":"x","date-range":{}}', 'not-a-tls-report'));
  it('policies that is not an array', () => rejects('{"report-id":"x","policies":{}}', 'not-a-tls-report'));
  it('policies but neither date-range nor report-id', () => rejects('{"policies":[],"organization-name":"x"}', 'not-a-tls-report'));
  it('a 10,000-deep nesting, fast and before JSON.parse', () => {
    const deep = '{"policies":' + '['.repeat(10_000) + ']'.repeat(10_000) + ',"report-id":"x"}';
    const t0 = process.hrtime.bigint();
    rejects(deep, 'too-deep');
    // The scan stops at depth 65, so this is microseconds; the bound only allows for a loaded CI box.
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 500, 'rejected within 500 ms');
    rejects('['.repeat(1_000_000), 'too-deep');
  });
  it('depth counts only structure, not brackets inside strings', () => {
    const doc = base();
    doc['organization-name'] = '[[[[{{{{\\"'.repeat(100);
    assert.equal(parseReport(JSON.stringify(doc), { maxDepth: 5 }).report.organizationName, doc['organization-name']);
    rejects(JSON.stringify(base()), 'too-deep', { maxDepth: 4 });
  });
});

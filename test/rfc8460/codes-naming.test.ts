/** @module test/rfc8460/codes-naming — libtlsrpt codes, registries, §5.1 file names and §5.3 subjects */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isIp, isRegisteredResultType, policyTypeFromCode, policyTypeToCode, readDatetime, reportFileName, reportSubject,
  RESULT_TYPES, resultTypeFromCode, resultTypeToCode,
} from '../../src/rfc8460/index.js';

describe('codes', () => {
  it('maps libtlsrpt policy types', () => {
    assert.deepEqual([1, 2, 9].map(policyTypeFromCode), ['tlsa', 'sts', 'no-policy-found']);
    for (const n of [0, 3, 8, 10, 201, -1, 1.5]) assert.equal(policyTypeFromCode(n), undefined);
    assert.equal(policyTypeToCode('sts'), 2);
    assert.equal(policyTypeToCode('other'), undefined);
  });
  it('maps libtlsrpt failure codes to the 11 registered result types', () => {
    // tlsrpt.h (tlsrpt_failure_t) — libtlsrpt's numbering, not the RFC 8460 §4.3 registry order.
    const byCode: [number, string][] = [
      [201, 'starttls-not-supported'], [202, 'certificate-host-mismatch'], [203, 'certificate-not-trusted'],
      [204, 'certificate-expired'], [205, 'validation-failure'], [301, 'sts-policy-fetch-error'],
      [302, 'sts-policy-invalid'], [303, 'sts-webpki-invalid'], [304, 'tlsa-invalid'], [305, 'dnssec-invalid'],
      [306, 'dane-required'],
    ];
    for (const [n, t] of byCode) {
      assert.equal(resultTypeFromCode(n), t, String(n));
      assert.equal(resultTypeToCode(t), n, t);
    }
    assert.deepEqual(new Set(byCode.map(([, t]) => t)), new Set(RESULT_TYPES));
    for (const n of [0, 200, 206, 300, 307, 901, 902, 999]) assert.equal(resultTypeFromCode(n), undefined);
    assert.equal(RESULT_TYPES.length, 11);
    assert.equal(isRegisteredResultType('Other'), false);
  });
});

describe('values', () => {
  it('recognises IP addresses', () => {
    for (const ip of ['192.0.2.1', '0.0.0.0', '255.255.255.255', '::', '::1', '2001:db8::25', '2001:db8:abcd:0012::1', '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1', '1::', 'FE80::1'])
      assert.equal(isIp(ip), true, ip);
    for (const ip of ['', 'x.x.x.x', '256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7::8:9', '::1.2.3', ' 1.2.3.4'])
      assert.equal(isIp(ip), false, ip);
  });
  it('reads RFC 3339 date-times to UTC seconds', () => {
    assert.deepEqual(readDatetime('2016-04-01T00:00:00Z'), { iso: '2016-04-01T00:00:00Z', ms: Date.UTC(2016, 3, 1) });
    assert.equal(readDatetime('2016-04-01T23:59:59.999-01:00').iso, '2016-04-02T00:59:59Z');
    assert.equal(readDatetime('2016-12-31T23:59:60Z').iso, '2016-12-31T23:59:59Z');
    assert.equal(readDatetime('2023-01-10T00:00:00').deviation, 'datetime-without-zone');
    for (const bad of ['', '2016-04-01', '2016-13-01T00:00:00Z', '2016-04-31T00:00:00Z', '2016-04-01T00:00:00Q', '2016-04-01T25:00:00Z', 'yesterday'])
      assert.equal(readDatetime(bad).deviation, 'invalid-datetime', bad);
  });
});

describe('naming (RFC 8460 §5.1, §5.3)', () => {
  it('builds the §5.1 file name', () => {
    assert.equal(reportFileName({ submitter: 'mail.sender.example', reportDomain: 'example.com', beginUnix: 1013662812, endUnix: 1013749130, gzip: true }),
      'mail.sender.example!example.com!1013662812!1013749130.json.gz');
    assert.equal(reportFileName({ submitter: 'Mail.Sender.Example.', reportDomain: 'example.com', beginUnix: 1, endUnix: 2, uniqueId: 'a-1!/b', gzip: false }),
      'mail.sender.example!example.com!1!2!a1b.json');
  });
  it('builds the §5.3 subject', () => {
    assert.equal(reportSubject({ reportDomain: 'example.net', submitter: 'mail.sender.example.com', reportId: '735ff.e317+bf22029@example.net' }),
      'Report Domain: example.net Submitter: mail.sender.example.com Report-ID: <735ff.e317+bf22029@example.net>');
    assert.equal(reportSubject({ reportDomain: 'example.net', submitter: 'sender.example', reportId: '<abc>' }),
      'Report Domain: example.net Submitter: sender.example Report-ID: <abc@sender.example>');
  });
  it('keeps header injection out of the subject', () => {
    assert.doesNotMatch(reportSubject({ reportDomain: 'a.example\r\nBcc: x@evil.example', submitter: 's.example', reportId: '1' }), /[\r\n]/);
  });
});

describe('date arithmetic', () => {
  it('isoSeconds and readDatetime agree with Date for every second of years 0000–9999', async () => {
    const fc = (await import('fast-check')).default;
    const { isoFromEpochMs: isoSeconds } = await import('../../src/common/time.js');
    fc.assert(fc.property(fc.integer({ min: -62167219200, max: 253402300799 }), (sec) => {
      const want = new Date(sec * 1000).toISOString().slice(0, 19) + 'Z';
      assert.equal(isoSeconds(sec * 1000), want);
      assert.equal(readDatetime(want).ms, sec * 1000);
      if (sec >= -62167219200 + 5400) assert.equal(readDatetime(want.replace('Z', '+01:30')).ms, sec * 1000 - 5_400_000);
    }), { numRuns: 5000 });
    assert.equal(readDatetime('0050-03-01T00:00:00Z').iso, '0050-03-01T00:00:00Z');
    assert.equal(readDatetime('2024-02-29T00:00:00Z').iso, '2024-02-29T00:00:00Z');
    assert.equal(readDatetime('2023-02-29T00:00:00Z').deviation, 'invalid-datetime');
    assert.equal(readDatetime('2024-05-01T24:00:00Z').iso, '2024-05-02T00:00:00Z');
  });
});

/** @module test/sending/dpv1 — decoding libtlsrpt dpv1 datagrams: the real captures, every rejection reason */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDpv1, decodeDpv1Text, DPV1_MAX_BYTES, normalizeDatagramDomain } from '../../src/sending/collect/sources/dpv1.js';

// The two datagrams captured from libtlsrpt 0.5.1 (docs/spec/libtlsrpt-datagram.md), byte for byte.
export const REAL1 = '{"dpv": "1","d": "Example.NET","pr": "v=TLSRPTv1; rua=mailto:tlsrpt@example.net","policies":[{"policy-type":1,"policy-domain": "example.net","policy-string":["3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"],"t":0,"f":0}]}';
export const REAL2 = '{"dpv": "1","d": "example.org","pr": "v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1","policies":[{"policy-type":2,"policy-domain": "example.org","policy-string":["version: STSv1","mode: enforce","mx: *.mx.example.org","max_age: 604800"],"mx-host":["*.mx.example.org"],"failure-details":[{"c":204,"s": "192.0.2.10","n": "mx1.mx.example.org","h": "mx1.mx.example.org","r": "198.51.100.25","a": "cert \\"expired\\"\\tline2\\n","f": "x509: certificate has expired"}],"t":1,"f":1}]}';

const ok = (text: string) => {
  const r = decodeDpv1(Buffer.from(text));
  assert.ok(r.ok, `expected ok, got ${JSON.stringify(r)}`);
  return r.outcome;
};
const reason = (input: string | Buffer) => {
  const r = typeof input === 'string' ? decodeDpv1(Buffer.from(input)) : decodeDpv1(input);
  assert.ok(!r.ok, `expected a rejection, got ${JSON.stringify(r)}`);
  return r.reason;
};
const one = (policy: string, top = '"dpv":"1","d":"x.test"') => `{${top},"policies":[${policy}]}`;

describe('dpv1: the real libtlsrpt datagrams', () => {
  it('decodes the DANE success exactly', () => {
    assert.deepEqual(ok(REAL1), {
      recipientDomain: 'example.net',
      tlsrptRecord: 'v=TLSRPTv1; rua=mailto:tlsrpt@example.net',
      policies: [{
        policy: { policyType: 'tlsa', policyString: ['3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], policyDomain: 'example.net', mxHost: [] },
        failed: false,
        failureDetails: [],
      }],
    });
  });

  it('decodes the MTA-STS failure exactly (c 204 is certificate-expired per tlsrpt.h)', () => {
    assert.deepEqual(ok(REAL2), {
      recipientDomain: 'example.org',
      tlsrptRecord: 'v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1',
      policies: [{
        policy: {
          policyType: 'sts',
          policyString: ['version: STSv1', 'mode: enforce', 'mx: *.mx.example.org', 'max_age: 604800'],
          policyDomain: 'example.org',
          mxHost: ['*.mx.example.org'],
        },
        failed: true,
        failureDetails: [{
          resultType: 'certificate-expired',
          sendingMtaIp: '192.0.2.10',
          receivingMxHostname: 'mx1.mx.example.org',
          receivingMxHelo: 'mx1.mx.example.org',
          receivingIp: '198.51.100.25',
          additionalInformation: 'cert "expired"\tline2\n',
          failureReasonCode: 'x509: certificate has expired',
        }],
      }],
    });
  });
});

describe('dpv1: fields', () => {
  it('maps every libtlsrpt policy and result code', () => {
    const types = [[1, 'tlsa'], [2, 'sts'], [9, 'no-policy-found']] as const;
    for (const [code, name] of types) assert.equal(ok(one(`{"policy-type":${code},"t":0,"f":0}`)).policies[0].policy.policyType, name);
    const results: [number, string][] = [[201, 'starttls-not-supported'], [202, 'certificate-host-mismatch'], [203, 'certificate-not-trusted'],
      [204, 'certificate-expired'], [205, 'validation-failure'], [301, 'sts-policy-fetch-error'], [302, 'sts-policy-invalid'],
      [303, 'sts-webpki-invalid'], [304, 'tlsa-invalid'], [305, 'dnssec-invalid'], [306, 'dane-required']];
    for (const [c, name] of results) {
      assert.equal(ok(one(`{"policy-type":9,"failure-details":[{"c":${c}}],"t":1,"f":1}`)).policies[0].failureDetails[0].resultType, name);
    }
  });

  it('lower-cases d, strips one trailing dot, and uses d when policy-domain is absent', () => {
    const o = ok('{"dpv":"1","d":"MAIL.Example.ORG.","policies":[{"policy-type":9,"t":0,"f":0},{"policy-type":2,"policy-domain":"Other.Example.","t":0,"f":0}]}');
    assert.equal(o.recipientDomain, 'mail.example.org');
    assert.equal(o.policies[0].policy.policyDomain, 'mail.example.org');
    assert.equal(o.policies[1].policy.policyDomain, 'other.example');
    assert.equal(o.tlsrptRecord, undefined);
    assert.equal(reason('{"dpv":"1","d":"example.org..","policies":[{"policy-type":9,"t":0,"f":0}]}'), 'missing-domain');
  });

  it('turns a U-label domain into its A-label', () => {
    assert.equal(ok('{"dpv":"1","d":"bücher.example","policies":[{"policy-type":9,"t":0,"f":0}]}').recipientDomain, 'xn--bcher-kva.example');
    assert.equal(normalizeDatagramDomain('a b.example'), undefined);
    assert.equal(normalizeDatagramDomain('x'.repeat(254)), undefined);
  });

  it('keeps CRLF in the EHLO reply (h): it is data', () => {
    const o = ok(one('{"policy-type":9,"failure-details":[{"c":201,"h":"mx.example\\r\\n250-PIPELINING\\r\\n250 SIZE"}],"t":1,"f":1}'));
    assert.equal(o.policies[0].failureDetails[0].receivingMxHelo, 'mx.example\r\n250-PIPELINING\r\n250 SIZE');
  });

  it('treats empty optional strings as absent and ignores unknown keys', () => {
    const o = ok(one('{"policy-type":9,"failure-details":[{"c":201,"s":"","n":"mx","x":1}],"t":1,"f":1,"future":true}', '"dpv":"1","d":"x.test","pr":"","extra":[1]'));
    assert.deepEqual(o.policies[0].failureDetails[0], { resultType: 'starttls-not-supported', receivingMxHostname: 'mx' });
    assert.equal('tlsrptRecord' in o, false);
  });

  it('reads other dpv values as v1 and says so', () => {
    const r = decodeDpv1Text('{"dpv":"2","d":"x.test","policies":[{"policy-type":9,"t":0,"f":0}]}');
    assert.ok(r.ok);
    assert.equal(r.unsupportedDpv, '"2"');
    const bad = decodeDpv1Text('{"dpv":"2","d":"x.test"}');
    assert.ok(!bad.ok);
    assert.equal(bad.reason, 'bad-policies');
    assert.equal(bad.unsupportedDpv, '"2"');
    assert.equal(decodeDpv1Text('{"d":"x.test","policies":[{"policy-type":9,"t":0,"f":0}]}').unsupportedDpv, 'absent');
    assert.equal(decodeDpv1Text('{"dpv":1,"d":"x.test","policies":[{"policy-type":9,"t":0,"f":0}]}').unsupportedDpv, undefined);
  });
});

describe('dpv1: rejections by reason', () => {
  const cases: [string, string | Buffer][] = [
    ['invalid-utf8', Buffer.from([0x7b, 0x22, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['invalid-utf8', Buffer.from('\xff\xfe\x00garbage', 'latin1')],
    ['not-json', 'not json'],
    ['not-json', '{"dpv":"1","d":' + '"a'.repeat(1000) + '"}'],
    ['not-json', ''],
    ['truncated', '{'],
    ['truncated', REAL2.slice(0, 200)],
    ['not-an-object', '[]'],
    ['not-an-object', 'null'],
    ['not-an-object', '"string"'],
    ['not-an-object', '42'],
    ['missing-domain', '{"dpv":"1"}'],
    ['missing-domain', '{"dpv":"1","d":7,"policies":[]}'],
    ['missing-domain', '{"dpv":"1","d":"","policies":[]}'],
    ['missing-domain', '{"dpv":"1","d":"evil.example\\r\\nBcc: x@y","policies":[{"policy-type":9,"t":0,"f":0}]}'],
    ['bad-policies', '{"dpv":"1","d":"x.test"}'],
    ['bad-policies', '{"dpv":"1","d":"x.test","policies":[]}'],
    ['bad-policies', '{"dpv":"1","d":"x.test","policies":{}}'],
    ['bad-policies', '{"dpv":"1","d":"x.test","policies":[5]}'],
    ['bad-policies', one('{"policy-type":9,"t":0}')],
    ['bad-policies', one('{"policy-type":9,"t":0,"f":2}')],
    ['bad-policies', one('{"policy-type":9,"t":0,"f":"0"}')],
    ['bad-policies', one('{"policy-type":2,"policy-string":"version: STSv1","t":0,"f":0}')],
    ['bad-policies', one('{"policy-type":2,"mx-host":[1],"t":0,"f":0}')],
    ['bad-policies', one('{"policy-type":2,"policy-domain":5,"t":0,"f":0}')],
    ['bad-policies', one('{"policy-type":9,"failure-details":{},"t":0,"f":1}')],
    ['bad-policies', one('{"policy-type":9,"failure-details":[7],"t":1,"f":1}')],
    ['bad-policies', one('{"policy-type":9,"failure-details":[{"c":201,"s":5}],"t":1,"f":1}')],
    ['unknown-policy-type', '{"dpv":"1","d":"x.test","policies":[{"policy-type":7,"t":0,"f":1}]}'],
    ['unknown-policy-type', one('{"policy-type":"2","t":0,"f":0}')],
    ['unknown-policy-type', one('{"t":0,"f":0}')],
    ['unknown-result-type', '{"dpv":"1","d":"x.test","pr":"v=TLSRPTv1; rua=mailto:a@x.test","policies":[{"policy-type":2,"failure-details":[{"c":999}],"t":1,"f":1}]}'],
    ['unknown-result-type', one('{"policy-type":2,"failure-details":[{"c":901}],"t":1,"f":1}')],
    ['unknown-result-type', one('{"policy-type":2,"failure-details":[{"s":"192.0.2.1"}],"t":1,"f":1}')],
    ['oversize', Buffer.alloc(DPV1_MAX_BYTES + 1, 0x20)],
  ];
  for (const [expected, input] of cases) {
    it(`${expected}: ${String(input).slice(0, 60)}`, () => assert.equal(reason(input), expected));
  }

  it('reads a datagram inside a larger buffer by offsets', () => {
    const buf = Buffer.from(`xx${REAL1}yy`);
    const r = decodeDpv1(buf, 2, 2 + REAL1.length);
    assert.ok(r.ok);
    assert.equal(r.outcome.recipientDomain, 'example.net');
  });
});

/** @module test/rfc8460/record — the TLSRPT TXT record grammar and selection rule of RFC 8460 §3 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTlsrptRecord, selectTlsrptRecord, type RecordResult } from '../../src/rfc8460/index.js';

function usable(r: RecordResult) {
  assert.equal(r.ok, true, r.ok ? '' : `expected usable, got: ${r.reason}`);
  return r as Extract<RecordResult, { ok: true }>;
}

function unusable(text: string): string {
  const r = parseTlsrptRecord(text);
  assert.equal(r.ok, false, `expected unusable: ${text}`);
  const reason = (r as { reason: string }).reason;
  assert.ok(reason.length > 0);
  return reason;
}

describe('parseTlsrptRecord (RFC 8460 §3)', () => {
  it('reads the minimal record', () => {
    assert.deepEqual(parseTlsrptRecord('v=TLSRPTv1;rua=mailto:reports@example.org'), {
      ok: true, rua: [{ scheme: 'mailto', uri: 'mailto:reports@example.org', address: 'reports@example.org' }], ignored: [], extensions: {},
    });
  });

  it('allows whitespace around ";" and "," and a trailing ";"', () => {
    const r = usable(parseTlsrptRecord('v=TLSRPTv1 ;\trua=https://reports.example.org/tlsrpt , mailto:tls@example.org ;  '));
    assert.deepEqual(r.rua, [
      { scheme: 'https', uri: 'https://reports.example.org/tlsrpt', url: 'https://reports.example.org/tlsrpt' },
      { scheme: 'mailto', uri: 'mailto:tls@example.org', address: 'tls@example.org' },
    ]);
  });

  it('accepts and returns extensions, before or after rua', () => {
    const r = usable(parseTlsrptRecord('v=TLSRPTv1; future-ext=abc; rua=mailto:tls@example.org; x.y_z-1=a:b/c'));
    assert.deepEqual(r.extensions, { 'future-ext': 'abc', 'x.y_z-1': 'a:b/c' });
    usable(parseTlsrptRecord(`v=TLSRPTv1; rua=mailto:tls@example.org; a${'b'.repeat(31)}=1`)); // 32 characters: the maximum
  });

  it('percent-decodes mailto addresses; %2C separates several', () => {
    const r = usable(parseTlsrptRecord('v=TLSRPTv1; rua=mailto:tls%2Breports@example.org,mailto:a@example.org%2Cb@example.net?subject=x'));
    assert.deepEqual(r.rua.map((t) => t.scheme === 'mailto' && t.address), ['tls+reports@example.org', 'a@example.org', 'b@example.net']);
  });

  it('ignores a mailto address with < or > in it (they would end the address in a header)', () => {
    const r = usable(parseTlsrptRecord('v=TLSRPTv1; rua=mailto:a%3Cb@example.org,mailto:c%3Ed@example.org,mailto:ok@example.org'));
    assert.deepEqual(r.rua.map((t) => t.scheme === 'mailto' && t.address), ['ok@example.org']);
    assert.equal(r.ignored.length, 2);
  });

  it('keeps percent escapes of an https URL as they are', () => {
    const r = usable(parseTlsrptRecord('v=TLSRPTv1; rua=https://r.example.org/a%2Cb%3Bc%21'));
    assert.deepEqual(r.rua, [{ scheme: 'https', uri: 'https://r.example.org/a%2Cb%3Bc%21', url: 'https://r.example.org/a%2Cb%3Bc%21' }]);
  });

  it('accepts schemes case-insensitively', () => {
    assert.equal(usable(parseTlsrptRecord('v=TLSRPTv1; rua=MAILTO:tls@example.org,HTTPS://R.EXAMPLE.ORG/x')).rua.length, 2);
  });

  it('ignores other schemes with a reason and keeps the usable URIs', () => {
    const r = usable(parseTlsrptRecord('v=TLSRPTv1; rua=ftp://example.org/x, http://example.org/y, mailto:tls@example.org'));
    assert.deepEqual(r.rua.map((t) => t.uri), ['mailto:tls@example.org']);
    assert.deepEqual(r.ignored.map((x) => x.uri), ['ftp://example.org/x', 'http://example.org/y']);
    for (const x of r.ignored) assert.match(x.reason, /not supported/);
  });

  it('is unusable when no rua URI is usable', () => {
    assert.match(unusable('v=TLSRPTv1; rua=ftp://example.org/x'), /no usable rua/);
    assert.match(unusable('v=TLSRPTv1; rua=mailto:not-an-address'), /no usable rua/);
  });

  // Every invalid vector of docs/spec/rfc8460.md §1, plus the acceptance script's.
  const invalid: [string, string][] = [
    ['v=TLSRPTv0', 'v=TLSRPTv0; rua=mailto:tls@example.org'],
    ['v=TLSRPTv10', 'v=TLSRPTv10; rua=mailto:tls@example.org'],
    ['v=TLSRPTv2', 'v=TLSRPTv2; rua=mailto:tls@example.org'],
    ['lower-case version', 'v=tlsrptv1; rua=mailto:tls@example.org'],
    ['version only', 'v=TLSRPTv1'],
    ['version only, trailing ;', 'v=TLSRPTv1;'],
    ['version not first', 'rua=mailto:tls@example.org; v=TLSRPTv1'],
    ['empty rua', 'v=TLSRPTv1; rua='],
    ['empty rua, spaces', 'v=TLSRPTv1; rua=  ;'],
    ['URI without scheme', 'v=TLSRPTv1; rua=tls@example.org'],
    ['only empty URIs', 'v=TLSRPTv1; rua=,'],
    ['only empty URIs, spaced', 'v=TLSRPTv1; rua= , ,'],
    ['extension with empty value', 'v=TLSRPTv1; rua=mailto:tls@example.org; ext='],
    ['extension name of 33 characters', `v=TLSRPTv1; rua=mailto:tls@example.org; a${'b'.repeat(32)}=1`],
    ['extension name starting with a symbol', 'v=TLSRPTv1; rua=mailto:tls@example.org; _ext=1'],
    ['extension name starting with a dot', 'v=TLSRPTv1; rua=mailto:tls@example.org; .ext=1'],
    ['extension name with a space', 'v=TLSRPTv1; rua=mailto:tls@example.org; bad ext=1'],
    ['extension value with a space', 'v=TLSRPTv1; rua=mailto:tls@example.org; ext=a b'],
    ['extension without =', 'v=TLSRPTv1; rua=mailto:tls@example.org; ext'],
    ['== in an extension', 'v=TLSRPTv1; rua=mailto:tls@example.org; ext==1'],
    ['== after rua', 'v=TLSRPTv1; rua==mailto:tls@example.org'],
    [';;', 'v=TLSRPTv1;; rua=mailto:tls@example.org'],
    [';; at the end', 'v=TLSRPTv1; rua=mailto:tls@example.org;;'],
    ['garbage after a URI', 'v=TLSRPTv1; rua=mailto:tls@example.org garbage'],
    ['garbage after an https URI', 'v=TLSRPTv1; rua=https://r.example.org/x <y>'],
    ['bad percent escape', 'v=TLSRPTv1; rua=mailto:tls%2@example.org'],
    ['bad percent escape, not hex', 'v=TLSRPTv1; rua=mailto:tls%zz@example.org'],
    ['unencoded !', 'v=TLSRPTv1; rua=mailto:tls@example.org!10m'],
    ['two rua fields', 'v=TLSRPTv1; rua=mailto:a@example.org; rua=mailto:b@example.org'],
    ['a second v=', 'v=TLSRPTv1; v=TLSRPTv1; rua=mailto:a@example.org'],
    ['space around =', 'v=TLSRPTv1; rua = mailto:a@example.org'],
    ['leading space', ' v=TLSRPTv1; rua=mailto:a@example.org'],
    ['empty', ''],
  ];
  for (const [title, text] of invalid) it(`rejects: ${title}`, () => { unusable(text); });
});

describe('selectTlsrptRecord: exactly one v=TLSRPTv1 record (RFC 8460 §3)', () => {
  it('joins a record split into several strings without a separator', () => {
    const r = usable(selectTlsrptRecord([['v=TLSRPTv1; rua=mailto:tls@exa', 'mple.org']]));
    assert.deepEqual(r.rua.map((t) => t.uri), ['mailto:tls@example.org']);
  });
  it('drops records that are not TLSRPT', () => {
    usable(selectTlsrptRecord(['v=spf1 -all', ['v=TLSRPTv1; rua=mailto:tls@example.org'], 'google-site-verification=abc']));
  });
  it('drops v=TLSRPTv10 records before counting', () => {
    usable(selectTlsrptRecord(['v=TLSRPTv10; rua=mailto:a@example.org', 'v=TLSRPTv1; rua=mailto:b@example.org']));
  });
  it('no record: none', () => {
    const r = selectTlsrptRecord([]);
    assert.equal(r.ok, false);
    assert.equal(selectTlsrptRecord(['v=spf1 -all']).ok, false);
  });
  it('two records: none, even when both are valid', () => {
    const r = selectTlsrptRecord(['v=TLSRPTv1; rua=mailto:a@example.org', 'v=TLSRPTv1;rua=mailto:b@example.org']);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /exactly one/);
  });
  it('a single record that does not parse counts as none', () => {
    assert.equal(selectTlsrptRecord(['v=TLSRPTv1; rua=ftp://x.example/']).ok, false);
    assert.equal(selectTlsrptRecord(['v=TLSRPTv1']).ok, false);
  });
});

/**
 * @module test/sending/delivery/mailto — the rua `mailto:` URI at the last boundary before RCPT TO
 * and the To header (`decodeMailto`): a TXT record is anyone's input, so `<`, `>`, `,`, CR/LF
 * and spaces, encoded or not, never become part of an envelope address.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMailto } from '../../../src/sending/deliver/queue.js';

describe('decodeMailto', () => {
  it('decodes a plain address and drops the query', () => {
    assert.equal(decodeMailto('mailto:tls%2Breports@example.net?subject=x'), 'tls+reports@example.net');
    assert.equal(decodeMailto('MAILTO:a@example.net'), 'a@example.net');
  });
  for (const [what, uri] of [
    ['<', 'mailto:a<b@example.net'], ['encoded <', 'mailto:a%3Cb@example.net'],
    ['>', 'mailto:a>b@example.net'], ['encoded >', 'mailto:a%3Eb@example.net'],
    [',', 'mailto:a@example.net,b@example.org'], ['encoded ,', 'mailto:a@example.net%2Cb@example.org'],
    ['CR LF', 'mailto:a@example.net%0D%0ARCPT TO:<x@evil.example>'], ['space', 'mailto:a%20b@example.net'],
    ['bad escape', 'mailto:a%ZZ@example.net'], ['no mailto', 'https://example.net/'],
  ] as const) {
    it(`refuses an address with ${what}`, () => assert.equal(decodeMailto(uri), undefined, uri));
  }
});

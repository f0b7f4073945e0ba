/**
 * @module test/sending/delivery/dkim-verify — checks what leaves: the DKIM signature of a report
 * mail as a receiver checks it (mailauth's dkimVerify, the key served by a resolver stub), so a
 * report sent unsigned, signed over the wrong headers or with `l=` fails the test.
 */
import assert from 'node:assert/strict';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { txtStrings } from './dkim-key.js';

/** A resolver (`dns.promises.resolve` contract) that knows only the test key's TXT record. */
export function keyResolver(key: { dnsName: string; txt: string }) {
  return async (name: string, rrtype: string): Promise<string[][]> => {
    if (rrtype === 'TXT' && name.toLowerCase() === key.dnsName.toLowerCase()) return [txtStrings(key.txt)];
    throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };
}

/**
 * Asserts a passing DKIM signature of `domain` covering the RFC 8460 §3 headers, without `l=`.
 * @example await assertDkimPass(h.sink.received[0].raw, h.dkim)
 */
export async function assertDkimPass(raw: Buffer, key: { dnsName: string; txt: string }, domain = 'example.com'): Promise<void> {
  const out = await dkimVerify(raw, { resolver: keyResolver(key) as never });
  const results = out.results as { signingDomain?: string; status: { result: string; comment?: string }; signingHeaders?: { keys?: string }; bodyLength?: number }[];
  assert.ok(results.length > 0, 'the mail carries no DKIM signature');
  const pass = results.find((r) => r.status.result === 'pass' && r.signingDomain === domain);
  assert.ok(pass, `no passing DKIM signature of ${domain}: ${JSON.stringify(results.map((r) => [r.signingDomain, r.status]))}`);
  const signed = String(pass.signingHeaders?.keys ?? '').toLowerCase();
  for (const h of ['from', 'subject', 'tls-report-domain', 'tls-report-submitter']) assert.ok(signed.split(/\s*:\s*/).includes(h), `h= lacks ${h}: ${signed}`);
  const header = raw.toString('latin1').split(/\r?\n\r?\n/, 1)[0];
  assert.doesNotMatch(header.replace(/\r?\n[ \t]+/g, ' ').match(/^DKIM-Signature:.*$/im)?.[0] ?? '', /[;\s]l=/, 'RFC 8460 §3: no l= tag');
}

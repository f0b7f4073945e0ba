/**
 * @module bench/ingest-datagram/mix — a realistic corpus of libtlsrpt dpv1 datagrams, written
 * the way libtlsrpt 0.5 writes them (its spacing, one policy each): 10,000 policy domains with a
 * skewed (Zipf-like) share of traffic, STS 50 % / TLSA 20 % / no policy 30 %, about 6 % failures
 * (some domains broken: 90 % failures), each failure with one detail. Seeded: same corpus every run.
 */

import { seededRandom } from '../support.js';

const rnd = seededRandom(0x5eed);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
const q = (s: string) => JSON.stringify(s);

const STS_FAILURES = [204, 203, 202, 301, 302, 303];
const TLSA_FAILURES = [304, 305, 306, 205];
const OTHER_FAILURES = [201, 203];
const SENDERS = ['192.0.2.10', '192.0.2.11', '2001:db8::25', '192.0.2.12'];

function hex64(i: number): string {
  let h = '';
  for (let k = 0; h.length < 64; k++) h += ((i * 2654435761 + k * 40503) >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return h.slice(0, 64);
}

/** One datagram for policy domain number `d`. */
export function datagram(d: number): { bytes: Buffer; failed: boolean } {
  const domain = `d${d}.example`;
  const kind = d % 10;
  const broken = d % 97 === 0;
  const failed = rnd() < (broken ? 0.9 : 0.05);
  let policy = `{"policy-type":${kind < 5 ? 2 : kind < 7 ? 1 : 9}`;
  if (kind < 5) {
    policy += `,"policy-domain": ${q(domain)},"policy-string":["version: STSv1","mode: ${d % 3 ? 'enforce' : 'testing'}","mx: *.mx.${domain}","max_age: 604800"],"mx-host":["*.mx.${domain}"]`;
  } else if (kind < 7) {
    policy += `,"policy-domain": ${q(domain)},"policy-string":["3 1 1 ${hex64(d)}"]`;
  } else {
    policy += `,"policy-domain": ${q(domain)}`;
  }
  if (failed) {
    const c = pick(kind < 5 ? STS_FAILURES : kind < 7 ? TLSA_FAILURES : OTHER_FAILURES);
    const mx = `mx${1 + (d % 2)}.mx.${domain}`;
    policy += `,"failure-details":[{"c":${c},"s": ${q(pick(SENDERS))},"n": ${q(mx)},"h": ${q(`${mx} ESMTP\r\n250-PIPELINING\r\n250 STARTTLS`)},"r": "198.51.100.${1 + (d % 250)}"${c === 204 ? ',"f": "x509: certificate has expired"' : ''}}],"t":1,"f":1}`;
  } else {
    policy += ',"t":0,"f":0}';
  }
  const text = `{"dpv": "1","d": ${q(d % 11 === 0 ? `${domain.toUpperCase()}.` : domain)},"pr": ${q(`v=TLSRPTv1; rua=mailto:tlsrpt@${domain}`)},"policies":[${policy}]}`;
  return { bytes: Buffer.from(text), failed };
}

/** Zipf-like choice among `domains` (a few big receivers, a long tail). */
function zipf(domains: number): number {
  return Math.min(domains - 1, Math.floor(Math.exp(rnd() * Math.log(domains + 1))) - 1);
}

/**
 * A pool of `size` datagrams laid out back to back, for the sender to cycle through.
 * Every domain appears at least once; the rest follow the skewed share.
 */
export function corpus(size: number, domains: number): { data: Buffer; lengths: Int32Array; failures: number } {
  const parts: Buffer[] = [];
  const lengths = new Int32Array(size);
  let failures = 0;
  for (let i = 0; i < size; i++) {
    const d = i < domains ? i : zipf(domains);
    const g = datagram(d);
    parts.push(g.bytes);
    lengths[i] = g.bytes.length;
    if (g.failed) failures++;
  }
  return { data: Buffer.concat(parts), lengths, failures };
}

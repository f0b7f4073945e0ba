/**
 * @module dns/tlsrpt — looks up a policy domain's TLSRPT record (RFC 8460 §3) at
 * `_smtp._tls.<policy-domain>` and applies the "exactly one v=TLSRPTv1 record" rule.
 */
import { selectTlsrptRecord, type RecordResult } from '../rfc8460/index.js';
import type { TtlCache } from '../common/ttl-cache.js';
import { normalizeName, type Resolver } from './resolver.js';

export type TlsrptLookup = RecordResult & {
  /** The TXT record chosen (its strings joined), when exactly one starts with v=TLSRPTv1. */
  record?: string;
  /** The name that was queried. */
  name: string;
};

/**
 * Finds the usable rua targets of a policy domain. NXDOMAIN and NODATA are "no policy"
 * ({ ok: false }); a temporary failure (SERVFAIL, timeout) rejects with a DnsError so the
 * caller can try again later. Answers are cached for their TTL when a cache is given.
 * @example
 * const r = await lookupTlsrptRecord('example.org', resolver, cache);
 * if (r.ok) for (const t of r.rua) deliverTo(t);
 */
export async function lookupTlsrptRecord(policyDomain: string, resolver: Resolver, cache?: TtlCache<TlsrptLookup>): Promise<TlsrptLookup> {
  const name = `_smtp._tls.${normalizeName(policyDomain)}`;
  const hit = cache?.get(name);
  if (hit) return hit;
  const answer = await resolver.resolveTxt(name);
  let result: TlsrptLookup;
  if (answer.records.length === 0) {
    result = { ok: false, reason: `no TXT record at ${name}${answer.rcode === 'NXDOMAIN' ? ' (the name does not exist)' : ''}`, name };
  } else {
    // RFC 8460 §3: a record split into several strings is joined without separators.
    const candidates = answer.records.map((r) => r.join('')).filter((t) => /^v=TLSRPTv1(?:$|[;\t ])/.test(t));
    result = { ...selectTlsrptRecord(answer.records), name };
    if (candidates.length === 1) result.record = candidates[0];
  }
  cache?.set(name, result, answer.ttl);
  return result;
}

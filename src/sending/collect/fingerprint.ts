/**
 * @module sending/collect/fingerprint — canonical identity of an applied policy and of a failure detail,
 * so the same policy reported with keys or set-like arrays in another order counts as one row.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { FailureDetail, Policy } from '../../rfc8460/types.js';
import { normalizeDomain } from '../../common/domain.js';


const collapse = (s: string) => s.trim().replace(/\s+/g, ' ');

/**
 * The canonical form of a policy as an array (stable JSON, no key order involved):
 * - `mx-host` is a set of patterns (RFC 8460 §4.4: "the MX patterns") → lower-cased, sorted, de-duplicated;
 * - an STS policy string is the lines of the policy file, whose order carries no meaning
 *   (RFC 8461 §3.2 key/value pairs; several `mx:` lines form a set) → whitespace-collapsed, sorted;
 * - TLSA policy strings are the RRset (RFC 4034 RRsets are unordered) → hex is case-insensitive, sorted;
 * - other policy types keep their order (we cannot know it carries none).
 */
export function canonicalPolicy(policy: Policy): unknown[] {
  const type = String(policy.policyType);
  let strings = (policy.policyString ?? []).map(collapse);
  if (type === 'tlsa') strings = [...new Set(strings.map((s) => s.toLowerCase()))].sort();
  else if (type === 'sts') strings = [...new Set(strings)].sort();
  const mx = [...new Set((policy.mxHost ?? []).map((m) => normalizeDomain(m)))].sort();
  const out: unknown[] = [type, normalizeDomain(policy.policyDomain), strings, mx];
  // Non-RFC keys of the policy object distinguish policies only when a sender uses them.
  if (policy.extra && Object.keys(policy.extra).length) out.push(stableJson(policy.extra));
  return out;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Fingerprint of one aggregation row: the canonical policy plus the TLSRPT record the MTA
 * looked up (counters are kept per window, policy domain, TLSRPT record and policy).
 * @example policyFingerprint({ policyType: 'sts', policyDomain: 'Example.org', policyString: ['mode: enforce', 'version: STSv1'], mxHost: [] })
 */
export function policyFingerprint(policy: Policy, tlsrptRecord?: string): string {
  return sha256(JSON.stringify([canonicalPolicy(policy), tlsrptRecord?.trim() ?? null]));
}

type DetailFields = Omit<FailureDetail, 'failedSessionCount'>;

/** Stable JSON with sorted keys at every level (for the `extra` map of non-RFC keys). */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Failure details count together only when every field is identical (libtlsrpt counting rule). */
export function failureDetailKey(detail: DetailFields): string {
  const { failedSessionCount: _ignored, ...fields } = detail as FailureDetail;
  return sha256(stableJson(fields));
}

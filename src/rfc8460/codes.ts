/** @module rfc8460/codes — registered type checks and libtlsrpt's numeric policy / result codes */
import { POLICY_TYPES, RESULT_TYPES, type PolicyType, type ResultType } from './types.js';

// libtlsrpt (sys4, used by Postfix) reports policy types and failures as integers over its
// datagram protocol: tlsrpt_policy_type_t and tlsrpt_failure_t in tlsrpt.h. The numbering is
// libtlsrpt's own (2xx TLS negotiation, 3xx policy), not the RFC 8460 §4.3 registry order.
const POLICY_BY_CODE: ReadonlyMap<number, PolicyType> = new Map([
  [1, 'tlsa'],
  [2, 'sts'],
  [9, 'no-policy-found'],
]);

const RESULT_BY_CODE: ReadonlyMap<number, ResultType> = new Map([
  [201, 'starttls-not-supported'],
  [202, 'certificate-host-mismatch'],
  [203, 'certificate-not-trusted'],
  [204, 'certificate-expired'],
  [205, 'validation-failure'],
  [301, 'sts-policy-fetch-error'],
  [302, 'sts-policy-invalid'],
  [303, 'sts-webpki-invalid'],
  [304, 'tlsa-invalid'],
  [305, 'dnssec-invalid'],
  [306, 'dane-required'],
]);
const CODE_BY_POLICY = new Map([...POLICY_BY_CODE].map(([k, v]) => [v, k]));
const CODE_BY_RESULT = new Map([...RESULT_BY_CODE].map(([k, v]) => [v, k]));
const REGISTERED_RESULTS = new Set(RESULT_TYPES);
const REGISTERED_POLICIES = new Set<string>(POLICY_TYPES);

/**
 * libtlsrpt policy type code → RFC 8460 policy type.
 * @example policyTypeFromCode(2) // 'sts'
 */
export function policyTypeFromCode(n: number): PolicyType | undefined {
  return POLICY_BY_CODE.get(n);
}

/**
 * libtlsrpt failure code → RFC 8460 §4.3 result type. Codes outside the registry's
 * mapping (e.g. libtlsrpt's internal 901) give `undefined`: they have no RFC name.
 * @example resultTypeFromCode(304) // 'sts-policy-fetch-error'
 */
export function resultTypeFromCode(n: number): ResultType | undefined {
  return RESULT_BY_CODE.get(n);
}

/** RFC 8460 policy type → libtlsrpt code, or undefined for unknown types. */
export function policyTypeToCode(t: string): number | undefined {
  return CODE_BY_POLICY.get(t as PolicyType);
}

/** RFC 8460 result type → libtlsrpt code, or undefined for unregistered types. */
export function resultTypeToCode(t: string): number | undefined {
  return CODE_BY_RESULT.get(t);
}

/** True for the 11 result types of the RFC 8460 §4.3 registry. */
export function isRegisteredResultType(t: string): boolean {
  return REGISTERED_RESULTS.has(t);
}

/** True for `tlsa`, `sts` and `no-policy-found` (RFC 8460 §4.4). */
export function isRegisteredPolicyType(t: string): t is PolicyType {
  return REGISTERED_POLICIES.has(t);
}

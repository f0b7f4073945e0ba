/** @module rfc8460/types — the SMTP TLS report (RFC 8460 §4) in the RFC's vocabulary, camelCase */

/** Policy types of RFC 8460 §4.4 (`policy-type`). Readers keep unknown strings as given. */
export type PolicyType = 'tlsa' | 'sts' | 'no-policy-found';

/** The three registered policy types, RFC 8460 §4.4. */
export const POLICY_TYPES: readonly PolicyType[] = ['tlsa', 'sts', 'no-policy-found'];

/**
 * The 11 result types of the IANA "STARTTLS Validation Result Types" registry, RFC 8460 §4.3,
 * in the RFC's order (negotiation, general, DANE, MTA-STS).
 */
export const RESULT_TYPES: readonly string[] = [
  'starttls-not-supported',
  'certificate-host-mismatch',
  'certificate-expired',
  'certificate-not-trusted',
  'validation-failure',
  'tlsa-invalid',
  'dnssec-invalid',
  'dane-required',
  'sts-policy-fetch-error',
  'sts-policy-invalid',
  'sts-webpki-invalid',
];

/** A result type: registered (see {@link RESULT_TYPES}) or unknown, kept as the sender wrote it. */
export type ResultType = string;

/** One `failure-details` entry, RFC 8460 §4.4. */
export interface FailureDetail {
  resultType: ResultType;
  sendingMtaIp?: string;
  receivingMxHostname?: string;
  receivingMxHelo?: string;
  receivingIp?: string;
  failedSessionCount: number;
  /** The RFC's key is `additional-information` (a URI). */
  additionalInformation?: string;
  failureReasonCode?: string;
  /** Non-RFC keys kept as given (`additional-info-uri`, `failure-error-code`, …). */
  extra?: Record<string, unknown>;
}

/** The `policy` object, RFC 8460 §4.4. */
export interface Policy {
  policyType: PolicyType | string;
  /** DANE: one "usage selector matching HEX" per TLSA RR; MTA-STS: one element per policy line. */
  policyString: string[];
  /** Always present after parsing (filled and noted when a sender left it out). */
  policyDomain: string;
  /** MX patterns of an MTA-STS policy; always an array (RFC figure shows a string). */
  mxHost: string[];
  /** Non-RFC keys of the `policy` object, kept as given. */
  extra?: Record<string, unknown>;
}

/** One element of `policies`, RFC 8460 §4.4. */
export interface PolicyResult {
  policy: Policy;
  summary: { totalSuccessfulSessionCount: number; totalFailureSessionCount: number };
  failureDetails: FailureDetail[];
  /** Non-RFC keys next to policy/summary/failure-details, kept as given. */
  extra?: Record<string, unknown>;
}

/** A whole report, RFC 8460 §4.4. Times are RFC 3339 UTC with `Z`, seconds precision. */
export interface TlsReport {
  organizationName: string;
  dateRange: { startDatetime: string; endDatetime: string };
  contactInfo?: string;
  reportId: string;
  policies: PolicyResult[];
  /** Non-RFC top-level keys, kept as given. */
  extra?: Record<string, unknown>;
}

/**
 * A conformance note: a deviation from RFC 8460 the lenient parser accepted.
 * `path` uses the RFC's JSON key names, e.g. `policies[0].policy.mx-host`.
 */
export interface Finding {
  code: string;
  path?: string;
  message: string;
}

/** @module sending/event — one TLS session outcome as an MTA reports it (libtlsrpt shape, RFC 8460 names) */
import type { FailureDetail, Policy } from '../rfc8460/types.js';

/** One TLS session outcome, libtlsrpt shape with RFC names. */
export interface TlsSessionOutcome {
  /** Lower-cased, one trailing dot stripped. */
  recipientDomain: string;
  /** Raw _smtp._tls TXT the MTA looked up (libtlsrpt 'pr'). */
  tlsrptRecord?: string;
  /** Loop safety: outcomes of our own report mail are dropped (RFC 8460 §5.3). */
  isReportDelivery?: boolean;
  policies: AppliedPolicy[];
}

/** One policy applied to the session; `failed` is the session's final result for this policy. */
export interface AppliedPolicy {
  policy: Policy;
  failed: boolean;
  failureDetails: Omit<FailureDetail, 'failedSessionCount'>[];
}

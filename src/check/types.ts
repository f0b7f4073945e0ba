/**
 * @module check/types — the vocabulary of `tlsrpt check`: a step with its verdict and a hint,
 * the report of a whole domain, and the I/O dependencies every step takes (resolver, ports,
 * trusted CAs, clock, timeouts) so tests run each step against real loopback peers.
 */
import type { Resolver } from '../dns/resolver.js';

/** `fail` makes the check exit 1; `warn` is worth fixing but delivery works; `skip` could not be judged. */
export type StepStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckStep {
  /** Stable id for scripts: `tlsrpt-record`, `mta-sts-policy`, `mx-starttls`, … */
  id: string;
  /** What was checked, for people (`TLSRPT record at _smtp._tls.example.org`). */
  title: string;
  status: StepStatus;
  /** What was found. */
  detail: string;
  /** What to do about a fail or warn. */
  hint?: string;
  /** The MX host the step is about, for per-MX steps. */
  mx?: string;
  /** Machine-readable findings of the step (the record, the policy, the certificate…). */
  data?: Record<string, unknown>;
}

export interface CheckReport {
  domain: string;
  ok: boolean;
  /** ISO time the check ran (the injected clock). */
  checkedAt: string;
  durationMs: number;
  steps: CheckStep[];
}

/** TLSA RRset of a name as a validating resolver returns it. */
export interface TlsaAnswer {
  records: { usage: number; selector: number; matchingType: number; certificate: Buffer }[];
  /** The resolver set AD: the answer is DNSSEC-validated (RFC 4035 §3.2.3). */
  authenticated: boolean;
}

export interface CheckDeps {
  /** TXT, A/AAAA and (through `query`) MX lookups. */
  resolver: Resolver & Required<Pick<Resolver, 'query'>>;
  /** TLSA lookup with the AD bit; default: dns-packet to the resolver's servers. */
  tlsa?: (name: string) => Promise<TlsaAnswer>;
  /** Ports to connect to: HTTPS for the MTA-STS policy (RFC 8461 §3.3: 443), SMTP for the MX hosts (25). */
  ports?: { https?: number; smtp?: number };
  /** Extra trusted CA certificates (PEM), added to Node's root store. */
  ca?: string[];
  /** Milliseconds since the epoch; certificate expiry is judged against it. */
  now?: () => number;
  /** Per network operation; default 5000 ms. */
  timeoutMs?: number;
  /** Our name in EHLO; default `tlsrpt-check.invalid`. */
  ehloName?: string;
}

export interface ResolvedDeps extends Required<Omit<CheckDeps, 'tlsa' | 'ca' | 'ports'>> {
  ports: { https: number; smtp: number };
  tlsa?: CheckDeps['tlsa'];
  ca?: string[];
}

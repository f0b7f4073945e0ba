/**
 * @module receiving/pipeline/authorize — which reports we keep: optionally only those about the policy
 * domains we operate (`receiving.policyDomains`), and for DANE reports about their MX hosts
 * (RFC 8460 §3: for DANE the policy domain is the TLSA base domain, i.e. the MX host), so a
 * stranger cannot fill the store with reports about someone else's domains.
 */
import type { TlsReport } from '../../rfc8460/types.js';
import { normalizeDomain } from '../../common/domain.js';

export interface AuthorizeOptions {
  /** Domains we operate. Empty or absent: every report is accepted. `*.example.org` matches subdomains. */
  policyDomains?: readonly string[];
  /** MX host names (or `*.suffix` patterns) that DANE (`tlsa`) reports may name instead of a policy domain. */
  mxHosts?: readonly string[];
}

export type AuthorizeResult = { ok: true; matched: string[] } | { ok: false; reason: string };

/**
 * Accepts a report when at least one of its policies is about a configured domain: an
 * `sts`/`no-policy-found` policy whose policy-domain is configured, or a `tlsa` policy whose
 * policy-domain or mx-host is a configured domain, one of its subdomains, or a configured MX host.
 * @example
 * authorizeReport(report, { policyDomains: ['example.org'] }); // { ok: true, matched: ['example.org'] }
 */
export function authorizeReport(report: TlsReport, opts: AuthorizeOptions): AuthorizeResult {
  const domains = (opts.policyDomains ?? []).map(normaliseDomain).filter(Boolean);
  if (!domains.length) return { ok: true, matched: [] };
  const mxHosts = (opts.mxHosts ?? []).map(normaliseDomain).filter(Boolean);
  const matched = new Set<string>();
  for (const { policy } of report.policies) {
    const policyDomain = normaliseDomain(policy.policyDomain ?? '');
    if (policyDomain && domains.some((d) => matchesDomain(policyDomain, d))) {
      matched.add(policyDomain);
      continue;
    }
    if (String(policy.policyType).toLowerCase() !== 'tlsa') continue;
    const names = [policyDomain, ...(policy.mxHost ?? []).map(normaliseDomain)].filter(Boolean);
    for (const name of names) {
      if (domains.some((d) => matchesDomain(name, d) || isSubdomain(name, d.replace(/^\*\./, ''))) || mxHosts.some((m) => matchesDomain(name, m))) {
        matched.add(name);
      }
    }
  }
  if (matched.size) return { ok: true, matched: [...matched] };
  const named = [...new Set(report.policies.map((p) => p.policy.policyDomain).filter(Boolean))];
  return {
    ok: false,
    reason: `the report is about ${named.length ? named.join(', ') : 'no named policy domain'}, none of which is in receiving.policyDomains`,
  };
}

/** Lower case, no trailing dot, no `mx: ` prefix (docs/spec/quirks.md), no `*.`-less wildcard surprises. */
export function normaliseDomain(name: string): string {
  return normalizeDomain(name.trim().replace(/^mx:\s*/i, ''));
}

function matchesDomain(name: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) return isSubdomain(name, pattern.slice(2));
  return name === pattern;
}

function isSubdomain(name: string, parent: string): boolean {
  return name.length > parent.length && name.endsWith(`.${parent}`);
}

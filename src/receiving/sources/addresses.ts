/**
 * @module receiving/sources/addresses — recipient patterns of `inboundReportAddresses`
 * (`postmaster@*`, `*@reports.example.org`, exact addresses): which envelope recipients the
 * SMTP/LMTP listener treats as report mailboxes. Case-insensitive; `*` matches any run of
 * characters (including none).
 */

export type AddressMatcher = (address: string) => boolean;

/**
 * @example
 * const isReportAddress = compileAddressPatterns(['postmaster@*', '*@reports.example.org']);
 * isReportAddress('Postmaster@example.com'); // true
 */
export function compileAddressPatterns(patterns: readonly string[]): AddressMatcher {
  const regexes = patterns
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean)
    .map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`, 's'));
  return (address) => {
    const a = normaliseAddress(address);
    return regexes.some((r) => r.test(a));
  };
}

/**
 * Matches an address's domain against a list of domains (`example.org` exactly,
 * `*.example.org` for its subdomains) — the domains `smtp.onward` relays for.
 * @example compileDomainList(['local.example'])('root@local.example') // true
 */
export function compileDomainList(domains: readonly string[]): AddressMatcher {
  const list = domains.map((d) => d.trim().toLowerCase().replace(/\.$/, '')).filter(Boolean);
  return (address) => {
    const a = normaliseAddress(address);
    const at = a.lastIndexOf('@');
    if (at < 0) return false;
    const domain = a.slice(at + 1);
    return list.some((d) => (d.startsWith('*.') ? domain.endsWith(d.slice(1)) && domain.length > d.length - 1 : domain === d));
  };
}

/** Lower-cases and strips angle brackets and a trailing dot of the domain. */
export function normaliseAddress(address: string): string {
  return address.trim().replace(/^<|>$/g, '').replace(/\.$/, '').toLowerCase();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

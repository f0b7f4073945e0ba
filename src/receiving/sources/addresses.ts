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

/** Lower-cases and strips angle brackets and a trailing dot of the domain. */
export function normaliseAddress(address: string): string {
  return address.trim().replace(/^<|>$/g, '').replace(/\.$/, '').toLowerCase();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

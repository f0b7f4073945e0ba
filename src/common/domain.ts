/**
 * @module common/domain — the one normal form of a domain name we compare, store and key by:
 * trimmed, lower-case, without the root's trailing dot (DNS names are case-insensitive,
 * RFC 4343; `example.org.` and `example.org` are the same name).
 */

/**
 * @example normalizeDomain(' Example.ORG. ') // → 'example.org'
 */
export function normalizeDomain(name: string): string {
  const t = name.trim();
  return (t.endsWith('.') ? t.slice(0, -1) : t).toLowerCase();
}

/**
 * @module sending/deliver/special-purpose — the address ranges an HTTPS rua must never reach,
 * as data: every entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (iana-ipv4-special-registry, iana-ipv6-special-registry, as of 2025), plus multicast,
 * reserved and deprecated site-local space from the address-space registries. A report
 * receiver is a public web server; none of these ranges holds one.
 *
 * `embedded` marks IPv6 ranges whose addresses carry an IPv4 address in their last 32 bits
 * (RFC 4291 §2.5.5, RFC 6052 §2.1, RFC 2765): such an address is judged by the IPv4 address
 * inside, so `64:ff9b::8.8.8.8` (DNS64 of a public host) passes and `::ffff:0:7f00:1` does not.
 */

export interface SpecialRange {
  cidr: string;
  name: string;
  /** The last 32 bits are an IPv4 address, which decides instead of this range. */
  embedded?: true;
}

export const IPV4_SPECIAL: readonly SpecialRange[] = [
  { cidr: '0.0.0.0/8', name: '"this network" (RFC 791)' },
  { cidr: '10.0.0.0/8', name: 'private (RFC 1918)' },
  { cidr: '100.64.0.0/10', name: 'shared address space / carrier-grade NAT (RFC 6598)' },
  { cidr: '127.0.0.0/8', name: 'loopback (RFC 1122)' },
  { cidr: '169.254.0.0/16', name: 'link-local (RFC 3927)' },
  { cidr: '172.16.0.0/12', name: 'private (RFC 1918)' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignments (RFC 6890)' },
  { cidr: '192.0.2.0/24', name: 'documentation TEST-NET-1 (RFC 5737)' },
  { cidr: '192.31.196.0/24', name: 'AS112-v4 (RFC 7535)' },
  { cidr: '192.52.193.0/24', name: 'AMT (RFC 7450)' },
  { cidr: '192.88.99.0/24', name: 'deprecated 6to4 relay anycast (RFC 7526)' },
  { cidr: '192.168.0.0/16', name: 'private (RFC 1918)' },
  { cidr: '192.175.48.0/24', name: 'direct delegation AS112 service (RFC 7534)' },
  { cidr: '198.18.0.0/15', name: 'benchmarking (RFC 2544)' },
  { cidr: '198.51.100.0/24', name: 'documentation TEST-NET-2 (RFC 5737)' },
  { cidr: '203.0.113.0/24', name: 'documentation TEST-NET-3 (RFC 5737)' },
  { cidr: '224.0.0.0/4', name: 'multicast (RFC 5771)' },
  { cidr: '240.0.0.0/4', name: 'reserved (RFC 1112)' },
  { cidr: '255.255.255.255/32', name: 'limited broadcast (RFC 919)' },
];

export const IPV6_SPECIAL: readonly SpecialRange[] = [
  { cidr: '::/128', name: 'unspecified (RFC 4291)' },
  { cidr: '::1/128', name: 'loopback (RFC 4291)' },
  { cidr: '::ffff:0:0/96', name: 'IPv4-mapped (RFC 4291)', embedded: true },
  { cidr: '::ffff:0:0:0/96', name: 'IPv4-translated (RFC 2765)', embedded: true },
  { cidr: '::/96', name: 'IPv4-compatible, deprecated (RFC 4291)', embedded: true },
  { cidr: '64:ff9b::/96', name: 'IPv4/IPv6 translation (RFC 6052)', embedded: true },
  { cidr: '64:ff9b:1::/48', name: 'local-use IPv4/IPv6 translation (RFC 8215)' },
  { cidr: '100::/64', name: 'discard-only (RFC 6666)' },
  { cidr: '100:0:0:1::/64', name: 'dummy IPv6 prefix (RFC 9780)' },
  { cidr: '2001::/23', name: 'IETF protocol assignments (RFC 2928)' },
  { cidr: '2001::/32', name: 'Teredo (RFC 4380)' },
  { cidr: '2001:2::/48', name: 'benchmarking (RFC 5180)' },
  { cidr: '2001:db8::/32', name: 'documentation (RFC 3849)' },
  { cidr: '2002::/16', name: '6to4 (RFC 3056)' },
  { cidr: '2620:4f:8000::/48', name: 'direct delegation AS112 service (RFC 7534)' },
  { cidr: '3fff::/20', name: 'documentation (RFC 9637)' },
  { cidr: '5f00::/16', name: 'segment routing SIDs (RFC 9602)' },
  { cidr: 'fc00::/7', name: 'unique local (RFC 4193)' },
  { cidr: 'fe80::/10', name: 'link-local (RFC 4291)' },
  { cidr: 'fec0::/10', name: 'site-local, deprecated (RFC 3879)' },
  { cidr: 'ff00::/8', name: 'multicast (RFC 4291)' },
];

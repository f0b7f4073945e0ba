/**
 * @module common/ip — one parser for IP address text (ipaddr.js, pinned), shared by the SSRF
 * guard and the per-client limits. Zone ids (`%eth0`) are dropped; a dotted IPv4 tail is turned
 * into hex groups first because ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d`.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * @example parseIp('::127.0.0.1')?.toString() // '::7f00:1'
 */
export function parseIp(text: string): IpAddress | undefined {
  const clean = text.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!isIP(clean)) return undefined;
  return ipaddr.parse(clean.replace(/:(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) => `:${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`));
}

/** A CIDR (`10.0.0.0/8`, `fc00::/7`) for `IpAddress.match`. */
export function parseCidr(cidr: string): [IpAddress, number] {
  return ipaddr.parseCIDR(cidr);
}

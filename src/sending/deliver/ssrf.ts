/**
 * @module sending/deliver/ssrf — decides whether an HTTPS rua target may be contacted: the
 * host is resolved by us, every address is checked against the ranges a report must never
 * reach (the IANA special-purpose registries, see special-purpose.ts, with every IPv6 form
 * that embeds an IPv4 address judged by that address), and the one checked address is what we
 * connect to.
 */
import { isIP } from 'node:net';
import { parseCidr, parseIp, type IpAddress } from '../../common/ip.js';
import { IPV4_SPECIAL, IPV6_SPECIAL, type SpecialRange } from './special-purpose.js';
import { lookup as dnsLookup } from 'node:dns/promises';

/** Resolves a host name to its addresses (A and AAAA). Injected so tests use a loopback DNS server. */
export type AddressLookup = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo: honours /etc/hosts, as an operator expects for `localhost`). */
export const systemLookup: AddressLookup = async (host) => {
  const all = await dnsLookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
};

const compile = (table: readonly SpecialRange[]) =>
  table.map((r) => ({ ...r, net: parseCidr(r.cidr) }))
    // Most specific first: `::ffff:0:0/96` must decide before `::/96`, Teredo before 2001::/23.
    .sort((a, b) => b.net[1] - a.net[1]);
const V4 = compile(IPV4_SPECIAL);
const V6 = compile(IPV6_SPECIAL);

/**
 * Why an address must not be contacted, or undefined when it is a public unicast address
 * (table: special-purpose.ts). An IPv6 address that embeds an IPv4 one is judged by that.
 * @example forbiddenReason('10.1.2.3') // 'private (RFC 1918)'
 * @example forbiddenReason('::ffff:127.0.0.1') // 'loopback (RFC 1122) (IPv4 embedded in IPv4-mapped (RFC 4291))'
 */
export function forbiddenReason(ip: string): string | undefined {
  const addr: IpAddress | undefined = parseIp(ip);
  if (!addr) return 'not an IP address';
  if (addr.kind() === 'ipv4') return V4.find((r) => addr.match(r.net))?.name;
  const v6 = addr;
  const range = V6.find((r) => v6.match(r.net));
  if (!range) return undefined;
  if (!range.embedded) return range.name;
  const b = v6.toByteArray();
  const inner = b.slice(12).join('.');
  const r = forbiddenReason(inner);
  return r ? `${r} (IPv4 ${inner} embedded in ${range.name})` : undefined;
}

export class TargetRefusedError extends Error {
  override name = 'TargetRefusedError';
  constructor(message: string, readonly host: string, readonly address?: string) {
    super(message);
  }
}

export interface CheckedTarget {
  /** The host as written in the URL (IPv6 without brackets); used for SNI, Host and certificate checks. */
  host: string;
  /** The addresses we may connect to, in the order to try. Never looked up again. */
  addresses: string[];
}

/**
 * Resolves `host` once and keeps only addresses that may be contacted. With
 * `allowPrivateTargets` every resolved address is kept. Throws TargetRefusedError (with the
 * reason) when no address is left, so the caller logs it and fails the target.
 */
export async function checkTargetHost(host: string, opts: { lookup: AddressLookup; allowPrivateTargets: boolean }): Promise<CheckedTarget> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(bare)) addresses = [bare];
  else {
    try {
      addresses = await opts.lookup(bare);
    } catch (e) {
      throw new TargetRefusedError(`cannot resolve ${bare}: ${(e as Error).message}`, bare);
    }
    if (addresses.length === 0) throw new TargetRefusedError(`${bare} has no A or AAAA address`, bare);
  }
  if (opts.allowPrivateTargets) return { host: bare, addresses: preferIpv4(addresses) };
  const refused: string[] = [];
  const ok: string[] = [];
  for (const a of addresses) {
    const reason = forbiddenReason(a);
    if (reason) refused.push(`${a} is ${reason}`);
    else ok.push(a);
  }
  // A name with any forbidden address is refused outright: a DNS answer mixing a public and an
  // internal address is the classic rebinding trick, and there is no honest reason for it.
  if (refused.length) {
    throw new TargetRefusedError(`refusing to contact ${bare}: ${refused.join(', ')} (set delivery.allowPrivateTargets to allow)`, bare, addresses[0]);
  }
  return { host: bare, addresses: preferIpv4(ok) };
}

function preferIpv4(addresses: string[]): string[] {
  return [...addresses.filter((a) => isIP(a) === 4), ...addresses.filter((a) => isIP(a) !== 4)];
}

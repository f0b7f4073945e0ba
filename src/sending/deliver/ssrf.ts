/**
 * @module sending/deliver/ssrf — decides whether an HTTPS rua target may be contacted: the
 * host is resolved by us, every address is checked against the ranges a report must never
 * reach (loopback, private, link-local, unspecified, CGNAT, multicast, reserved, and the
 * IPv4-mapped / NAT64 forms of those), and the one checked address is what we connect to.
 */
import { isIP, BlockList } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';

/** Resolves a host name to its addresses (A and AAAA). Injected so tests use a loopback DNS server. */
export type AddressLookup = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo: honours /etc/hosts, as an operator expects for `localhost`). */
export const systemLookup: AddressLookup = async (host) => {
  const all = await dnsLookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
};

const V4_FORBIDDEN: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6_FORBIDDEN: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique local (fc00::/7)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
  ['100::', 64, 'discard-only'],
];

const v4Lists = V4_FORBIDDEN.map(([net, prefix, reason]) => {
  const b = new BlockList();
  b.addSubnet(net, prefix, 'ipv4');
  return { b, reason };
});
const v6Lists = V6_FORBIDDEN.map(([net, prefix, reason]) => {
  const b = new BlockList();
  b.addSubnet(net, prefix, 'ipv6');
  return { b, reason };
});

/** Expands an IPv6 text to its 8 16-bit groups (handles `::` and a dotted IPv4 tail). */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1] !== undefined) {
    const [o0 = 0, o1 = 0, o2 = 0, o3 = 0] = tail[1].split('.').map(Number);
    text = text.slice(0, -tail[1].length) + ((o0 << 8) | o1).toString(16) + ':' + ((o2 << 8) | o3).toString(16);
  }
  const [head, rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const zeros = rest !== undefined ? new Array(8 - h.length - r.length).fill('0') : [];
  return [...h, ...zeros, ...r].map((g) => parseInt(g, 16));
}

/** The IPv4 address embedded in an IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96) or NAT64 (64:ff9b::/96) address. */
function embeddedIpv4(ip: string): string | undefined {
  const g = ipv6Groups(ip);
  const [g6 = 0, g7 = 0] = g.slice(6);
  const v4 = () => `${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`;
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return v4();
  if (zero(0, 6) && (g6 !== 0 || g7 > 1)) return v4();
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4();
  return undefined;
}

/**
 * Why an address must not be contacted, or undefined when it is a public unicast address.
 * @example forbiddenReason('10.1.2.3') // 'private (RFC 1918)'
 * @example forbiddenReason('::ffff:127.0.0.1') // 'loopback (IPv4-mapped)'
 */
export function forbiddenReason(ip: string): string | undefined {
  const family = isIP(ip.replace(/%.*$/, ''));
  if (family === 4) {
    if (ip === '255.255.255.255') return 'broadcast';
    return v4Lists.find((l) => l.b.check(ip, 'ipv4'))?.reason;
  }
  if (family === 6) {
    const clean = ip.replace(/%.*$/, '');
    const inner = embeddedIpv4(clean);
    if (inner !== undefined) {
      const r = forbiddenReason(inner);
      return r ? `${r} (IPv4 embedded in IPv6)` : undefined;
    }
    return v6Lists.find((l) => l.b.check(clean, 'ipv6'))?.reason;
  }
  return 'not an IP address';
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

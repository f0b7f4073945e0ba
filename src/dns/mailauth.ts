/**
 * @module dns/mailauth — adapts a {@link Resolver} to mailauth's `resolver(name, rrtype)`,
 * which follows the `dns.promises` contract: TXT → string[][], MX → {exchange, priority}[],
 * A/AAAA → string[]; absence is an error with code ENOTFOUND (NXDOMAIN) or ENODATA (NODATA),
 * which mailauth tells apart from temporary failures (ETIMEOUT, ESERVFAIL → temperror).
 */
import type dnsPacket from 'dns-packet';
import type { Resolver } from './resolver.js';

function dnsError(code: string, syscall: string, name: string): Error {
  return Object.assign(new Error(`${syscall} ${code} ${name}`), { code, syscall, hostname: name });
}

/**
 * @example
 * import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
 * await dkimVerify(raw, { resolver: mailauthResolver(createResolver({ servers })) });
 */
export function mailauthResolver(r: Resolver): (name: string, rrtype: string) => Promise<any> {
  return async (name: string, rrtype = 'A') => {
    const type = String(rrtype).toUpperCase();
    const syscall = `query${type.charAt(0)}${type.slice(1).toLowerCase()}`;
    try {
      if (type === 'TXT') {
        const a = await r.resolveTxt(name);
        if (a.records.length === 0) throw dnsError(a.rcode === 'NXDOMAIN' ? 'ENOTFOUND' : 'ENODATA', syscall, name);
        return a.records;
      }
      if (!r.query) {
        if (type !== 'A' && type !== 'AAAA') throw dnsError('ENOTIMP', syscall, name);
        const all = await r.resolveAddresses(name);
        const list = all.filter((ip) => (type === 'A' ? !ip.includes(':') : ip.includes(':')));
        if (!list.length) throw dnsError('ENOTFOUND', syscall, name);
        return list;
      }
      const a = await r.query(name, type as dnsPacket.RecordType);
      if (a.answers.length === 0) throw dnsError(a.rcode === 'NXDOMAIN' ? 'ENOTFOUND' : 'ENODATA', syscall, name);
      return a.answers.map((x) => {
        const data = (x as { data: unknown }).data;
        if (type === 'MX') {
          const mx = data as { exchange: string; preference: number };
          return { exchange: mx.exchange, priority: mx.preference };
        }
        return data;
      });
    } catch (e) {
      const err = e as { code?: string };
      if (err.code) throw e;
      throw Object.assign(e as Error, { code: 'ESERVFAIL' });
    }
  };
}

/**
 * @module check/dns — DNS helpers of `tlsrpt check`: MX hosts in preference order (a null MX,
 * RFC 7505, is none), a lookup failure as a failed step, and TLSA with the AD bit over
 * dns-packet (Node's resolver has no TLSA type and hides AD).
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { parseServer } from '../dns/resolver.js';
import type { CheckStep, ResolvedDeps, TlsaAnswer } from './types.js';

export async function mxHosts(domain: string, deps: Pick<ResolvedDeps, 'resolver'>): Promise<string[]> {
  const a = await deps.resolver.query(domain, 'MX');
  return a.answers
    .filter((x): x is dnsPacket.StringAnswer & { data: { preference: number; exchange: string } } => x.type === 'MX')
    .map((x) => x.data as unknown as { preference: number; exchange: string })
    .sort((x, y) => x.preference - y.preference)
    .map((x) => x.exchange.replace(/\.$/, '').toLowerCase())
    .filter((h) => h !== '');
}

export function dnsFailure(id: string, title: string, name: string, e: unknown): CheckStep {
  return {
    id, title, status: 'fail',
    detail: `DNS lookup of ${name} failed: ${(e as Error).message}`,
    hint: 'check that the DNS servers (dns.servers in the config) answer, then run the check again',
  };
}

/**
 * TLSA at `name` asking with DO and AD set (RFC 6840 §5.7: AD in a query asks for the AD bit).
 * The AD bit is only worth something from a validating resolver on a trusted path (loopback).
 */
export function tlsaOverUdp(servers: string[], timeoutMs: number): (name: string) => Promise<TlsaAnswer> {
  const server = parseServer(servers[0] ?? '127.0.0.1:53');
  return (name) => new Promise((resolve, reject) => {
    const id = randomInt(0, 65536);
    const sock = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(new Error(`TLSA lookup of ${name} timed out after ${timeoutMs} ms at ${server.host}:${server.port}`)), timeoutMs);
    function done(err: Error | null, res?: TlsaAnswer) {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err); else resolve(res!);
    }
    sock.on('error', (e) => done(e));
    sock.on('message', (msg) => {
      let res: dnsPacket.DecodedPacket;
      try { res = dnsPacket.decode(msg); } catch { return; }
      if (res.id !== id) return;
      const rcode = (res as unknown as { rcode: string }).rcode;
      if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') return done(new Error(`TLSA lookup of ${name}: ${rcode}`));
      const records = (res.answers ?? []).filter((a) => a.type === 'TLSA').map((a) => (a as unknown as { data: TlsaAnswer['records'][number] }).data);
      done(null, { records, authenticated: Boolean((res as unknown as { flag_ad?: boolean }).flag_ad) });
    });
    const q: dnsPacket.Packet = {
      type: 'query', id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
      questions: [{ type: 'TLSA', name, class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnsPacket.DNSSEC_OK } as dnsPacket.Answer],
    };
    sock.send(dnsPacket.encode(q), server.port, server.host, (e) => { if (e) done(e); });
  });
}

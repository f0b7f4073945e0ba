/**
 * @module test/support/dns-server — a real DNS server for tests: dns-packet over UDP and TCP
 * on 127.0.0.1 (one ephemeral port for both), answering from a per-test zone. Unknown names
 * get NXDOMAIN, known names without the asked type get NODATA, both with an SOA for the
 * negative TTL (RFC 2308). Names can be made to fail (SERVFAIL), time out, or need TCP.
 *
 * @example
 * const dns = await startDnsServer({ '_smtp._tls.example.org': { TXT: [['v=TLSRPTv1; rua=mailto:r@example.org']] } });
 * const resolver = createResolver({ servers: dns.servers });
 * …
 * await dns.close();
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export interface ZoneEntry {
  TXT?: string[][];
  A?: string[];
  AAAA?: string[];
  CNAME?: string;
  MX?: { exchange: string; priority: number }[];
  /** TLSA records for DANE tests. */
  TLSA?: { usage: number; selector: number; matchingType: number; certificate: Buffer }[];
  /** TTL of every RRset at this name; default 300. */
  ttl?: number;
  /** Answer SERVFAIL for this name. */
  servfail?: boolean;
  /** Never answer (the client times out). */
  drop?: boolean;
  /** Over UDP answer only with the TC bit, so the client must retry over TCP. */
  tcpOnly?: boolean;
  /** Set the AD bit, as a validating resolver does for a DNSSEC-secure answer (DANE tests). */
  authenticated?: boolean;
}

export type Zone = Record<string, ZoneEntry>;

export interface QueryLog { name: string; type: string; transport: 'udp' | 'tcp' }

export interface DnsTestServer {
  /** ['127.0.0.1:PORT']: pass to createResolver / dns.servers. */
  servers: string[];
  port: number;
  setZone(zone: Zone): void;
  /** Every question received, in order. */
  queries: QueryLog[];
  close(): Promise<void>;
}

const NEGATIVE_TTL = 30;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

const norm = (n: string) => n.replace(/\.$/, '').toLowerCase();

function normalizeZone(z: Zone): Map<string, ZoneEntry> {
  return new Map(Object.entries(z).map(([k, v]) => [norm(k), v]));
}

/** Builds the reply to one query, or null to stay silent. */
function answer(zone: Map<string, ZoneEntry>, query: dnsPacket.DecodedPacket, transport: 'udp' | 'tcp'): Buffer | null {
  const q = query.questions?.[0];
  if (!q) return null;
  const name = norm(q.name);
  const entry = zone.get(name);
  if (entry?.drop) return null;
  const reply: dnsPacket.Packet = {
    type: 'response', id: query.id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED,
    questions: [q], answers: [], authorities: [],
  };
  let rcode: number = RCODE.NOERROR;
  if (entry?.servfail) rcode = RCODE.SERVFAIL;
  else if (!entry) rcode = RCODE.NXDOMAIN;
  else {
    const ttl = entry.ttl ?? 300;
    const rrs: dnsPacket.Answer[] = [];
    if (entry.CNAME && q.type !== 'CNAME') {
      rrs.push({ type: 'CNAME', name: q.name, ttl, data: entry.CNAME });
      const target = zone.get(norm(entry.CNAME));
      if (target) rrs.push(...records(target, entry.CNAME, q.type));
    } else {
      rrs.push(...records(entry, q.name, q.type));
    }
    reply.answers = rrs;
  }
  if (rcode !== RCODE.NOERROR || reply.answers!.length === 0) {
    reply.authorities = [{
      type: 'SOA', name: name.split('.').slice(-2).join('.') || '.', ttl: NEGATIVE_TTL,
      data: { mname: 'ns.test', rname: 'hostmaster.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: NEGATIVE_TTL },
    }];
  }
  reply.flags = (reply.flags ?? 0) | rcode | (entry?.authenticated ? dnsPacket.AUTHENTIC_DATA : 0);
  let buf = dnsPacket.encode(reply);
  if (transport === 'udp') {
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const max = opt?.udpPayloadSize ?? 512;
    if (entry?.tcpOnly || buf.length > max) {
      buf = dnsPacket.encode({ ...reply, flags: (reply.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
    }
  }
  return buf;
}

function records(entry: ZoneEntry, name: string, type: string): dnsPacket.Answer[] {
  const ttl = entry.ttl ?? 300;
  switch (type) {
    // dns-packet turns the strings into Buffers in place: hand it copies, the zone stays as given.
    case 'TXT': return (entry.TXT ?? []).map((strings) => ({ type: 'TXT', name, ttl, data: [...strings] }));
    case 'A': return (entry.A ?? []).map((data) => ({ type: 'A', name, ttl, data }));
    case 'AAAA': return (entry.AAAA ?? []).map((data) => ({ type: 'AAAA', name, ttl, data }));
    case 'MX': return (entry.MX ?? []).map((data) => ({ type: 'MX', name, ttl, data: { preference: data.priority, exchange: data.exchange } }));
    case 'TLSA': return (entry.TLSA ?? []).map((data) => ({ type: 'TLSA', name, ttl, data }));
    default: return [];
  }
}

/** Starts the server on 127.0.0.1, UDP and TCP on the same ephemeral port. */
export async function startDnsServer(initial: Zone = {}): Promise<DnsTestServer> {
  let zone = normalizeZone(initial);
  const queries: QueryLog[] = [];
  const handle = (msg: Buffer, transport: 'udp' | 'tcp'): Buffer | null => {
    let query: dnsPacket.DecodedPacket;
    try { query = dnsPacket.decode(msg); } catch { return null; }
    const q = query.questions?.[0];
    if (q) queries.push({ name: norm(q.name), type: q.type, transport });
    try { return answer(zone, query, transport); } catch { return null; }
  };

  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(0, '127.0.0.1', () => { udp.off('error', reject); resolve(); }); });
    const port = udp.address().port;
    const tcp = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => sock.destroy());
      sock.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const reply = handle(buf.subarray(2, 2 + len), 'tcp');
          buf = buf.subarray(2 + len);
          if (reply) {
            const framed = Buffer.alloc(2 + reply.length);
            framed.writeUInt16BE(reply.length, 0);
            reply.copy(framed, 2);
            sock.write(framed);
          }
        }
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!ok) {
      udp.close();
      if (attempt > 20) throw new Error('could not bind the test DNS server');
      continue;
    }
    udp.on('message', (msg, rinfo) => {
      const reply = handle(msg, 'udp');
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
    const sockets = new Set<net.Socket>();
    tcp.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    return {
      servers: [`127.0.0.1:${port}`],
      port,
      queries,
      setZone(z) { zone = normalizeZone(z); },
      async close() {
        for (const s of sockets) s.destroy();
        await Promise.all([
          new Promise<void>((r) => udp.close(() => r())),
          new Promise<void>((r) => tcp.close(() => r())),
        ]);
      },
    };
  }
}

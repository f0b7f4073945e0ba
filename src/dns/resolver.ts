/**
 * @module dns/resolver — a small stub resolver over dns-packet: UDP with TCP fallback on a
 * truncated answer, per-attempt timeouts, retries over the configured servers. It exists
 * because node:dns cannot return the TTL of TXT records, and TLSRPT lookups are cached by TTL.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { normalizeDomain } from '../common/domain.js';
import { at } from '../common/checked.js';

/** TXT records at a name, each the list of its character-strings; NXDOMAIN/NODATA → records: []. */
export interface TxtAnswer {
  records: string[][];
  /** Seconds this answer may be cached (record TTL, or the negative TTL of the SOA). */
  ttl: number;
  /** Why `records` is empty: the name does not exist, or has no TXT records. */
  rcode?: 'NOERROR' | 'NXDOMAIN';
}

/** What the rest of the service asks DNS. Every I/O user takes one of these (tests pass a loopback server's). */
export interface Resolver {
  resolveTxt(name: string): Promise<TxtAnswer>;
  /** A and AAAA addresses of a host; [] when it has none. */
  resolveAddresses(name: string): Promise<string[]>;
  /** Any record type, for adapters (mailauth). Optional for fakes. */
  query?(name: string, type: dnsPacket.RecordType): Promise<QueryAnswer>;
}

export interface QueryAnswer { rcode: 'NOERROR' | 'NXDOMAIN'; answers: dnsPacket.Answer[]; ttl: number }

/**
 * A lookup that failed for a reason that may pass (SERVFAIL, timeout, refused): retry later,
 * do not treat the name as absent. `code` follows node:dns (ETIMEOUT, ESERVFAIL, EREFUSED, EBADRESP).
 */
export class DnsError extends Error {
  override name = 'DnsError';
  constructor(readonly code: string, readonly hostname: string, message: string, readonly temporary = true) {
    super(message);
  }
}

/** RFC 1035 §2.3.4: at most 253 characters, labels of 1–63 octets (any printable characters: TXT owner names use `_`). */
export function isValidDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((l) => l.length >= 1 && l.length <= 63 && /^[\x21-\x7e]+$/.test(l));
}

export interface ResolverOptions {
  /** 'host:port', '[v6]:port', or a bare address (port 53). Default: the system's `dns.getServers()`. */
  servers?: string[];
  /** Per attempt; default 2000 ms. */
  timeoutMs?: number;
  /** Attempts over the server list; default 2 × the number of servers, at least 2. */
  attempts?: number;
}

interface Server { host: string; port: number; family: 4 | 6 }

/** Parses 'host:port', '[v6]:port', 'v4', 'v6' into an address and port. */
export function parseServer(s: string): Server {
  let host = s.trim(), port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracket?.[1] !== undefined) { host = bracket[1]; if (bracket[2]) port = Number(bracket[2]); }
  else if ((host.match(/:/g) ?? []).length === 1) { const i = host.indexOf(':'); port = Number(host.slice(i + 1)); host = host.slice(0, i); }
  const family = net.isIP(host);
  if (!family || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid DNS server ${JSON.stringify(s)}: expected an IP address with an optional port, e.g. 127.0.0.1:5353`);
  return { host, port, family: family as 4 | 6 };
}

/** Lower-case, one trailing dot stripped: the form names are compared and cached in. */
export function normalizeName(name: string): string {
  return normalizeDomain(name);
}

/** Negative answers without an SOA are cached this long. */
const DEFAULT_NEGATIVE_TTL = 60;

/**
 * Creates the stub resolver.
 * @example
 * const r = createResolver({ servers: ['127.0.0.1:5353'] });
 * const { records, ttl } = await r.resolveTxt('_smtp._tls.example.org');
 */
export function createResolver(opts: ResolverOptions = {}): Resolver & { query(name: string, type: dnsPacket.RecordType): Promise<QueryAnswer> } {
  const servers = (opts.servers?.length ? opts.servers : dns.getServers()).map(parseServer);
  if (servers.length === 0) throw new Error('no DNS servers configured (set dns.servers in the config)');
  const timeoutMs = opts.timeoutMs ?? 2000;
  const attempts = opts.attempts ?? Math.max(2, 2 * servers.length);

  async function query(rawName: string, type: dnsPacket.RecordType): Promise<QueryAnswer> {
    const name = normalizeName(rawName);
    if (!isValidDnsName(name)) throw new DnsError('EBADNAME', name, `${JSON.stringify(rawName)} is not a valid DNS name`, false);
    let last: DnsError | undefined;
    for (let i = 0; i < attempts; i++) {
      const server = at(servers, i % servers.length);
      try {
        let res = await udpQuery(server, name, type, timeoutMs);
        if (res.flag_tc) res = await tcpQuery(server, name, type, timeoutMs);
        const rcode = (res as unknown as { rcode: string }).rcode;
        if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') return answerOf(res, name, type, rcode);
        last = new DnsError(rcode === 'SERVFAIL' ? 'ESERVFAIL' : rcode === 'REFUSED' ? 'EREFUSED' : 'EBADRESP', name,
          `DNS ${type} lookup of ${name} failed at ${server.host}:${server.port}: ${rcode}`);
      } catch (e) {
        last = e instanceof DnsError ? e : new DnsError('ECONNREFUSED', name, `DNS ${type} lookup of ${name} failed at ${server.host}:${server.port}: ${(e as Error).message}`);
      }
    }
    throw last!;
  }

  return {
    query,
    async resolveTxt(name) {
      const a = await query(name, 'TXT');
      const records = a.answers.filter((x): x is dnsPacket.TxtAnswer => x.type === 'TXT').map((x) => txtStrings(x.data));
      return { records, ttl: a.ttl, rcode: a.rcode };
    },
    async resolveAddresses(name) {
      const [v4, v6] = await Promise.all([query(name, 'A'), query(name, 'AAAA')]);
      return [...v4.answers, ...v6.answers].filter((x) => x.type === 'A' || x.type === 'AAAA').map((x) => String((x as { data: unknown }).data));
    },
  };
}

function txtStrings(data: dnsPacket.TxtData): string[] {
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8')));
}

/** Answers of the asked type at the name or along its CNAME chain; TTL the smallest of them. */
function answerOf(res: dnsPacket.DecodedPacket, name: string, type: string, rcode: 'NOERROR' | 'NXDOMAIN'): QueryAnswer {
  const chain = new Set([name]);
  const all = res.answers ?? [];
  for (let grew = true; grew;) {
    grew = false;
    for (const a of all) {
      if (a.type === 'CNAME' && chain.has(normalizeName(a.name)) && !chain.has(normalizeName(String(a.data)))) {
        chain.add(normalizeName(String(a.data)));
        grew = true;
      }
    }
  }
  const answers = all.filter((a) => a.type === type && chain.has(normalizeName(a.name)));
  if (answers.length) return { rcode, answers, ttl: Math.min(...answers.map((a) => (a as { ttl?: number }).ttl ?? 0)) };
  // RFC 2308 §5: negative answers are cached for min(SOA TTL, SOA MINIMUM).
  const soa = (res.authorities ?? []).find((a): a is dnsPacket.SoaAnswer => a.type === 'SOA');
  const ttl = soa ? Math.min(soa.ttl ?? DEFAULT_NEGATIVE_TTL, soa.data.minimum ?? DEFAULT_NEGATIVE_TTL) : DEFAULT_NEGATIVE_TTL;
  return { rcode: rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'NOERROR', answers: [], ttl };
}

function queryPacket(name: string, type: dnsPacket.RecordType): dnsPacket.Packet {
  return {
    type: 'query', id: randomInt(0, 65536), flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    // EDNS0 (RFC 6891) with the DNS-flag-day size, so long TXT sets rarely need TCP.
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as dnsPacket.Answer],
  };
}

/** A reply belongs to our query when id, question name and type match (cheap spoofing defence). */
function matches(res: dnsPacket.DecodedPacket, q: dnsPacket.Packet): boolean {
  const rq = res.questions?.[0];
  const qq = q.questions?.[0];
  return res.type === 'response' && res.id === q.id && !!rq && !!qq && normalizeName(rq.name) === qq.name && rq.type === qq.type;
}

function udpQuery(server: Server, name: string, type: dnsPacket.RecordType, timeoutMs: number): Promise<dnsPacket.DecodedPacket> {
  const q = queryPacket(name, type);
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
    const done = (err: Error | null, res?: dnsPacket.DecodedPacket) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err); else resolve(res!);
    };
    const timer = setTimeout(() => done(new DnsError('ETIMEOUT', name, `DNS ${type} lookup of ${name} timed out after ${timeoutMs} ms at ${server.host}:${server.port}`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('message', (msg, rinfo) => {
      if (rinfo.port !== server.port) return;
      let res: dnsPacket.DecodedPacket;
      try { res = dnsPacket.decode(msg); } catch { return; }
      if (matches(res, q)) done(null, res);
    });
    sock.send(dnsPacket.encode(q), server.port, server.host, (e) => { if (e) done(e); });
  });
}

function tcpQuery(server: Server, name: string, type: dnsPacket.RecordType, timeoutMs: number): Promise<dnsPacket.DecodedPacket> {
  const q = queryPacket(name, type);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    let finished = false;
    const done = (err: Error | null, res?: dnsPacket.DecodedPacket) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err); else resolve(res!);
    };
    const timer = setTimeout(() => done(new DnsError('ETIMEOUT', name, `DNS ${type} lookup of ${name} over TCP timed out after ${timeoutMs} ms at ${server.host}:${server.port}`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('connect', () => sock.write(dnsPacket.streamEncode(q)));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      let res: dnsPacket.DecodedPacket;
      try { res = dnsPacket.decode(buf.subarray(2, 2 + len)); } catch (e) { return done(new DnsError('EBADRESP', name, `malformed DNS answer for ${name}: ${(e as Error).message}`)); }
      if (matches(res, q)) done(null, res); else done(new DnsError('EBADRESP', name, `unrelated DNS answer for ${name} over TCP`));
    });
    sock.on('end', () => done(new DnsError('EBADRESP', name, `DNS server ${server.host}:${server.port} closed the TCP connection without an answer for ${name}`)));
  });
}

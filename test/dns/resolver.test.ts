/** @module test/dns/resolver — the dns-packet stub resolver against a real DNS server on loopback. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { createResolver, DnsError, parseServer } from '../../src/dns/index.js';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';

const long = Array.from({ length: 12 }, (_, i) => [`v=spf1 include:_spf${i}.${'x'.repeat(180)}.example ~all`]);

describe('createResolver against a loopback DNS server', () => {
  let dns: DnsTestServer;
  before(async () => {
    dns = await startDnsServer({
      'txt.example': { TXT: [['v=TLSRPTv1; rua=mailto:', 'tls@example.org'], ['other']], ttl: 1234 },
      'Upper.Example.': { TXT: [['upper']] },
      'empty.example': { A: ['192.0.2.1'] },
      'fail.example': { servfail: true },
      'slow.example': { drop: true },
      'tcp.example': { TXT: [['via tcp']], tcpOnly: true },
      'big.example': { TXT: long },
      'alias.example': { CNAME: 'target.example', ttl: 100 },
      'target.example': { TXT: [['at the target']], A: ['192.0.2.7'], ttl: 50 },
      'host.example': { A: ['192.0.2.1', '192.0.2.2'], AAAA: ['2001:db8::1'] },
    });
  });
  after(() => dns.close());

  it('returns TXT records with their strings and the TTL', async () => {
    const r = createResolver({ servers: dns.servers });
    assert.deepEqual(await r.resolveTxt('txt.example'), { records: [['v=TLSRPTv1; rua=mailto:', 'tls@example.org'], ['other']], ttl: 1234, rcode: 'NOERROR' });
    assert.deepEqual((await r.resolveTxt('UPPER.example.')).records, [['upper']]);
  });
  it('tells NXDOMAIN from NODATA, both as an empty answer with the SOA negative TTL', async () => {
    const r = createResolver({ servers: dns.servers });
    assert.deepEqual(await r.resolveTxt('missing.example'), { records: [], ttl: 30, rcode: 'NXDOMAIN' });
    assert.deepEqual(await r.resolveTxt('empty.example'), { records: [], ttl: 30, rcode: 'NOERROR' });
  });
  it('rejects SERVFAIL and timeouts with a temporary DnsError', async () => {
    const r = createResolver({ servers: dns.servers, timeoutMs: 150, attempts: 2 });
    await assert.rejects(r.resolveTxt('fail.example'), (e: unknown) => e instanceof DnsError && e.code === 'ESERVFAIL' && e.temporary && /fail\.example/.test(e.message));
    const t = performance.now();
    await assert.rejects(r.resolveTxt('slow.example'), (e: unknown) => e instanceof DnsError && e.code === 'ETIMEOUT');
    assert.ok(performance.now() - t < 1000);
  });
  it('retries over TCP when the UDP answer is truncated', async () => {
    const r = createResolver({ servers: dns.servers });
    dns.queries.length = 0;
    assert.deepEqual((await r.resolveTxt('tcp.example')).records, [['via tcp']]);
    assert.deepEqual(dns.queries.map((q) => q.transport), ['udp', 'tcp']);
    const big = await r.resolveTxt('big.example');
    assert.equal(big.records.length, 12);
    assert.equal(dns.queries.at(-1)!.transport, 'tcp');
  });
  it('follows a CNAME and takes the smallest TTL along it', async () => {
    const r = createResolver({ servers: dns.servers });
    assert.deepEqual(await r.resolveTxt('alias.example'), { records: [['at the target']], ttl: 50, rcode: 'NOERROR' });
  });
  it('resolves A and AAAA addresses', async () => {
    const r = createResolver({ servers: dns.servers });
    assert.deepEqual((await r.resolveAddresses('host.example')).sort(), ['192.0.2.1', '192.0.2.2', '2001:db8::1']);
    assert.deepEqual(await r.resolveAddresses('missing.example'), []);
  });
  it('moves on to the next server when one does not answer', async () => {
    const dead = await startDnsServer({ 'txt.example': { drop: true } });
    try {
      const r = createResolver({ servers: [...dead.servers, ...dns.servers], timeoutMs: 150 });
      assert.equal((await r.resolveTxt('txt.example')).ttl, 1234);
    } finally {
      await dead.close();
    }
  });
});

describe('stub resolver hardening', () => {
  it('ignores a reply with the wrong id or question (spoofing) and takes the right one', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const reply = (id: number, text: string, name = q.questions![0].name) => dnsPacket.encode({
        type: 'response', id, flags: dnsPacket.RECURSION_AVAILABLE, questions: [{ ...q.questions![0], name }],
        answers: [{ type: 'TXT', name, ttl: 60, data: [text] }],
      });
      sock.send(reply((q.id! + 1) & 0xffff, 'spoofed id'), rinfo.port, rinfo.address);
      sock.send(reply(q.id!, 'spoofed name', 'evil.example'), rinfo.port, rinfo.address);
      sock.send(Buffer.from('garbage'), rinfo.port, rinfo.address);
      setTimeout(() => sock.send(reply(q.id!, 'genuine'), rinfo.port, rinfo.address), 20);
    });
    try {
      const r = createResolver({ servers: [`127.0.0.1:${(sock.address()).port}`], timeoutMs: 1000 });
      assert.deepEqual((await r.resolveTxt('q.example')).records, [['genuine']]);
    } finally {
      sock.close();
    }
  });
  it('parses server addresses as node:dns writes them', () => {
    assert.deepEqual(parseServer('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353, family: 4 });
    assert.deepEqual(parseServer('8.8.8.8'), { host: '8.8.8.8', port: 53, family: 4 });
    assert.deepEqual(parseServer('[::1]:5353'), { host: '::1', port: 5353, family: 6 });
    assert.deepEqual(parseServer('2001:db8::53'), { host: '2001:db8::53', port: 53, family: 6 });
    for (const bad of ['localhost:53', '127.0.0.1:0', '127.0.0.1:70000', '', 'dns.example']) assert.throws(() => parseServer(bad), /invalid DNS server/);
  });
});

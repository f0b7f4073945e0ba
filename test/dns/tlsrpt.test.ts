/** @module test/dns/tlsrpt — TLSRPT record lookup over a real loopback DNS server, with TTL caching. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver, DnsError, lookupTlsrptRecord, TtlCache, type TlsrptLookup } from '../../src/dns/index.js';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';

describe('lookupTlsrptRecord', () => {
  let dns: DnsTestServer;
  before(async () => {
    dns = await startDnsServer({
      '_smtp._tls.example.org': { TXT: [['v=spf1 -all'], ['v=TLSRPTv1; rua=mailto:tls@', 'example.org,https://r.example.org/tlsrpt, ftp://x.example']], ttl: 600 },
      '_smtp._tls.two.example': { TXT: [['v=TLSRPTv1; rua=mailto:a@two.example'], ['v=TLSRPTv1; rua=mailto:b@two.example']] },
      '_smtp._tls.bad.example': { TXT: [['v=TLSRPTv1; rua=']] },
      '_smtp._tls.other.example': { TXT: [['v=TLSRPTv10; rua=mailto:a@other.example']] },
      '_smtp._tls.fail.example': { servfail: true },
    });
  });
  after(() => dns.close());

  it('finds the usable rua targets of a split record, ignoring other TXT records and unusable URIs', async () => {
    const r = await lookupTlsrptRecord('Example.ORG.', createResolver({ servers: dns.servers }));
    assert.equal(r.ok, true);
    assert.equal(r.name, '_smtp._tls.example.org');
    assert.equal(r.record, 'v=TLSRPTv1; rua=mailto:tls@example.org,https://r.example.org/tlsrpt, ftp://x.example');
    if (!r.ok) return;
    assert.deepEqual(r.rua.map((t) => t.uri), ['mailto:tls@example.org', 'https://r.example.org/tlsrpt']);
    assert.equal(r.ignored.length, 1);
  });
  it('says why a domain has no usable policy', async () => {
    const resolver = createResolver({ servers: dns.servers });
    const none = await lookupTlsrptRecord('missing.example', resolver);
    assert.equal(none.ok, false);
    assert.match(!none.ok ? none.reason : '', /no TXT record at _smtp\._tls\.missing\.example \(the name does not exist\)/);
    const two = await lookupTlsrptRecord('two.example', resolver);
    assert.equal(two.ok, false);
    assert.equal(two.record, undefined);
    assert.match(!two.ok ? two.reason : '', /2 v=TLSRPTv1 records/);
    const bad = await lookupTlsrptRecord('bad.example', resolver);
    assert.equal(bad.ok, false);
    assert.equal(bad.record, 'v=TLSRPTv1; rua=');
    assert.equal((await lookupTlsrptRecord('other.example', resolver)).ok, false);
  });
  it('rejects temporary failures instead of reporting "no policy"', async () => {
    await assert.rejects(lookupTlsrptRecord('fail.example', createResolver({ servers: dns.servers, attempts: 1 })), (e: unknown) => e instanceof DnsError && e.temporary);
  });
  it('caches answers (positive and negative) for their TTL', async () => {
    let now = 0;
    const cache = new TtlCache<TlsrptLookup>({ clock: () => now });
    const resolver = createResolver({ servers: dns.servers });
    dns.queries.length = 0;
    await lookupTlsrptRecord('example.org', resolver, cache);
    await lookupTlsrptRecord('missing.example', resolver, cache);
    now = 29;
    await lookupTlsrptRecord('example.org', resolver, cache);
    await lookupTlsrptRecord('missing.example', resolver, cache);
    assert.equal(dns.queries.length, 2);
    now = 30; // the negative TTL (SOA minimum) ran out, the record's 600 s did not
    await lookupTlsrptRecord('missing.example', resolver, cache);
    await lookupTlsrptRecord('example.org', resolver, cache);
    assert.equal(dns.queries.length, 3);
    now = 600;
    await lookupTlsrptRecord('example.org', resolver, cache);
    assert.equal(dns.queries.length, 4);
  });
});

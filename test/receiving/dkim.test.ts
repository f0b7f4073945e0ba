/**
 * DKIM of e-mailed reports (RFC 8460 §3) against a real loopback DNS server serving the keys:
 * a correctly signed report passes and aligns, a modified body or header fails, an unsigned one
 * is 'none' (flagged); the reject policy refuses both; keys restricted to other services and
 * l= signatures do not count. Pipeline cases run on SQLite and PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';
import { forEachStore } from '../support/stores.js';
import { createResolver, mailauthResolver } from '../../src/dns/index.js';
import { cachingResolver, dkimVerdict, domainOfContactInfo, organizationalDomain, verifyDkim, type DkimResolver } from '../../src/receiving/dkim/verify.js';
import { createIngestor } from '../../src/receiving/pipeline/ingest.js';
import { silentLog } from '../../src/common/log.js';
import { buildReportMail, makeDkimKey, signMail, txtStrings, type DkimKey } from './support/report-mail.js';
import { makeReport } from './support/reports.js';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';

let dns: DnsTestServer;
let resolver: DkimResolver;
let sender: DkimKey;
let attacker: DkimKey;
let emailOnly: DkimKey;

before(async () => {
  sender = makeDkimKey('sender.example', 'tlsrpt');
  attacker = makeDkimKey('attacker.example', 'sel');
  emailOnly = makeDkimKey('sender.example', 'mailonly', { service: 'email' });
  dns = await startDnsServer({
    [sender.dnsName]: { TXT: [txtStrings(sender.txt)] },
    [attacker.dnsName]: { TXT: [txtStrings(attacker.txt)] },
    [emailOnly.dnsName]: { TXT: [txtStrings(emailOnly.txt)] },
  });
  resolver = mailauthResolver(createResolver({ servers: dns.servers }));
});
after(() => dns.close());

// Each mail carries different counts: identical content would be caught as a re-generated duplicate.
let serial = 0;
const mail = (o: { submitter?: string; reportId?: string } = {}) => buildReportMail({
  reportJson: makeReport({ submitter: o.submitter ?? 'sender.example', policyDomain: 'example.org', successful: 1000 + ++serial, ...(o.reportId ? { reportId: o.reportId } : {}) }),
  policyDomain: 'example.org', submitter: o.submitter ?? 'sender.example',
});
const ids = { contactInfo: 'smtp-tls-reporting@sender.example', submitter: 'sender.example', from: 'tlsrpt@sender.example' };

describe('verifyDkim', () => {
  it('passes a correctly signed report, aligned with contact-info, h= covering the TLS-Report-* headers', async () => {
    const r = await verifyDkim(await signMail(mail(), sender), ids, { resolver });
    assert.equal(r.result, 'pass', r.comment);
    assert.equal(r.signingDomain, 'sender.example');
    assert.equal(r.selector, 'tlsrpt');
    assert.equal(r.aligned, true);
    assert.equal(r.alignedWith, 'contact-info');
    assert.equal(r.coversReportHeaders, true);
  });

  it('fails when the body was modified after signing', async () => {
    const signed = await signMail(mail(), sender);
    const tampered = Buffer.from(signed.toString('latin1').replace('This is an aggregate TLS report', 'This is an aggregate TLS rePort'), 'latin1');
    assert.notDeepEqual(tampered, signed);
    const r = await verifyDkim(tampered, ids, { resolver });
    assert.equal(r.result, 'fail');
    assert.match(r.comment ?? '', /body hash/);
  });

  it('fails when a signed header was modified', async () => {
    const signed = await signMail(mail(), sender);
    const tampered = Buffer.from(signed.toString('latin1').replace('TLS-Report-Domain: example.org', 'TLS-Report-Domain: example.net'), 'latin1');
    const r = await verifyDkim(tampered, ids, { resolver });
    assert.equal(r.result, 'fail');
  });

  it('fails a signature with l= (RFC 8460 §3), even one covering the whole body', async () => {
    const raw = mail();
    const bodyLength = raw.length - raw.indexOf('\r\n\r\n') - 4;
    const signed = await dkimSign(raw, {
      canonicalization: 'relaxed/relaxed', algorithm: 'rsa-sha256',
      headerList: 'From:To:Subject:Date:Message-ID:TLS-Report-Domain:TLS-Report-Submitter:MIME-Version:Content-Type',
      signatureData: [{ signingDomain: sender.domain, selector: sender.selector, privateKey: sender.privateKeyPem, maxBodyLength: bodyLength + 1000 }],
    } as never);
    assert.match(signed.signatures, /;\s*l=\d+/, 'the test signature carries l=');
    const r = await verifyDkim(Buffer.concat([Buffer.from(signed.signatures), raw]), ids, { resolver });
    assert.equal(r.result, 'fail');
    assert.match(r.comment ?? '', /l=/);
  });

  it('is "none" for an unsigned report', async () => {
    const r = await verifyDkim(mail(), ids, { resolver });
    assert.equal(r.result, 'none');
    assert.equal(r.aligned, false);
  });

  it('passes but does not align when a third party signed', async () => {
    const r = await verifyDkim(await signMail(mail(), attacker), ids, { resolver });
    assert.equal(r.result, 'pass');
    assert.equal(r.signingDomain, 'attacker.example');
    assert.equal(r.aligned, false);
  });

  it('prefers the aligned passing signature among several', async () => {
    const r = await verifyDkim(await signMail(await signMail(mail(), attacker), sender), ids, { resolver });
    assert.equal(r.result, 'pass');
    assert.equal(r.signingDomain, 'sender.example');
    assert.equal(r.signatures.length, 2);
  });

  it('aligns by organisational domain with TLS-Report-Submitter or From when contact-info differs', async () => {
    const r = await verifyDkim(await signMail(mail(), sender), { contactInfo: 'https://reports.other.example/', submitter: 'mta.sender.example' }, { resolver });
    assert.equal(r.alignedWith, 'tls-report-submitter');
    const f = await verifyDkim(await signMail(mail(), sender), { from: 'noreply@bounce.sender.example' }, { resolver });
    assert.equal(f.alignedWith, 'from');
  });

  it('does not accept a key restricted to another service (s=email)', async () => {
    const r = await verifyDkim(await signMail(mail(), { ...emailOnly }), ids, { resolver });
    assert.equal(r.result, 'fail');
    assert.match(r.comment ?? '', /service type tlsrpt/);
  });

  it('fails when the key is not in DNS', async () => {
    const r = await verifyDkim(await signMail(mail(), { domain: 'sender.example', selector: 'gone', privateKeyPem: sender.privateKeyPem }), ids, { resolver });
    assert.equal(r.result, 'fail');
    assert.match(r.comment ?? '', /no key/);
  });

  it('follows a key rotation at the same selector (parsed keys are remembered per record, not per name)', async () => {
    const rotated = makeDkimKey('rotate.example', 'sel');
    const next = makeDkimKey('rotate.example', 'sel');
    const ids2 = { contactInfo: 'tls@rotate.example' };
    const signedOld = await signMail(mail(), rotated);
    const signedNew = await signMail(mail(), next);
    dns.setZone({ [rotated.dnsName]: { TXT: [txtStrings(rotated.txt)] } });
    try {
      assert.equal((await verifyDkim(signedOld, ids2, { resolver })).result, 'pass');
      assert.equal((await verifyDkim(signedNew, ids2, { resolver })).result, 'fail');
      dns.setZone({ [next.dnsName]: { TXT: [txtStrings(next.txt)] } });
      assert.equal((await verifyDkim(signedNew, ids2, { resolver })).result, 'pass');
      assert.equal((await verifyDkim(signedOld, ids2, { resolver })).result, 'fail');
    } finally {
      dns.setZone({
        [sender.dnsName]: { TXT: [txtStrings(sender.txt)] },
        [attacker.dnsName]: { TXT: [txtStrings(attacker.txt)] },
        [emailOnly.dnsName]: { TXT: [txtStrings(emailOnly.txt)] },
      });
    }
  });

  it('the policy: flag accepts all, reject refuses unsigned, failing and unaligned', async () => {
    const good = await verifyDkim(await signMail(mail(), sender), ids, { resolver });
    const none = await verifyDkim(mail(), ids, { resolver });
    const third = await verifyDkim(await signMail(mail(), attacker), ids, { resolver });
    assert.deepEqual(dkimVerdict(none, 'flag'), { accept: true });
    assert.deepEqual(dkimVerdict(good, 'reject'), { accept: true });
    assert.equal(dkimVerdict(none, 'reject').accept, false);
    assert.equal(dkimVerdict(third, 'reject').accept, false);
  });
});

describe('organisational domains', () => {
  it('uses the public suffix list', () => {
    assert.equal(organizationalDomain('corp.mail.ru'), 'mail.ru');
    assert.equal(organizationalDomain('mx.example.co.uk'), 'example.co.uk');
    assert.equal(organizationalDomain('Google.COM.'), 'google.com');
  });
  it('finds the domain of contact-info in its usual shapes', () => {
    assert.equal(domainOfContactInfo('smtp-tls-reporting@google.com'), 'google.com');
    assert.equal(domainOfContactInfo('mailto:tlsrpt@corp.mail.ru'), 'corp.mail.ru');
    assert.equal(domainOfContactInfo('https://reports.example.net/tls'), 'reports.example.net');
    assert.equal(domainOfContactInfo('example.com'), 'example.com');
    assert.equal(domainOfContactInfo('Company X support'), undefined);
  });
});

describe('cachingResolver', () => {
  it('asks DNS once per name within the TTL, and again after it', async () => {
    let t = 0;
    let calls = 0;
    const r = cachingResolver(async () => { calls++; return [['x']]; }, 1000, 10, () => t);
    await r('a.example', 'TXT');
    await r('A.example', 'TXT');
    assert.equal(calls, 1);
    t = 2000;
    await r('a.example', 'TXT');
    assert.equal(calls, 2);
  });
});

forEachStore('DKIM in the ingestion pipeline', (open) => {
  it('flag (default): unsigned and failing reports are stored with their DKIM result', async () => {
    const store = await open();
    const ingestor = createIngestor({ store, log: silentLog, resolver });
    const now = 1_764_000_000;
    const [signed] = await ingestor.ingest(await signMail(mail(), sender), { channel: 'smtp', receivedAt: now });
    const [unsigned] = await ingestor.ingest(mail(), { channel: 'smtp', receivedAt: now });
    assert.equal(signed.status, 'imported');
    assert.equal(unsigned.status, 'imported');
    const rows = await store.db.selectFrom('inbound_report').select(['id', 'dkim_result', 'dkim_domain', 'dkim_aligned']).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => [r.dkim_result, r.dkim_domain, Number(r.dkim_aligned)]), [['pass', 'sender.example', 1], ['none', null, 0]]);
  });

  it('reject: a signed report is stored; unsigned, modified and unaligned ones are rejected with the reason', async () => {
    const store = await open();
    const ingestor = createIngestor({ store, log: silentLog, resolver, options: { dkim: 'reject' } });
    const now = 1_764_000_000;
    const signed = await signMail(mail(), sender);
    const modified = Buffer.from(signed.toString('latin1').replace('aggregate TLS report', 'aggregate TLS rep0rt'), 'latin1');
    const results = [
      await ingestor.ingest(signed, { channel: 'smtp', receivedAt: now }),
      await ingestor.ingest(mail(), { channel: 'smtp', receivedAt: now }),
      await ingestor.ingest(modified, { channel: 'smtp', receivedAt: now }),
      await ingestor.ingest(await signMail(mail(), attacker), { channel: 'smtp', receivedAt: now }),
    ].map((o) => o[0]);
    assert.deepEqual(results.map((o) => o.status), ['imported', 'rejected', 'rejected', 'rejected']);
    assert.deepEqual(results.slice(1).map((o) => o.code), ['dkim', 'dkim', 'dkim']);
    assert.match(results[1].reason!, /unsigned/);
    assert.match(results[2].reason!, /does not verify/);
    assert.match(results[3].reason!, /not the reporting domain/);
    const stored = await store.db.selectFrom('inbound_report').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(stored.n), 1);
  });

  it('reject applies to e-mail only: an HTTPS POST has no DKIM and is stored', async () => {
    const store = await open();
    const ingestor = createIngestor({ store, log: silentLog, resolver, options: { dkim: 'reject' } });
    const [o] = await ingestor.ingest(Buffer.from(makeReport({ submitter: 'sender.example', policyDomain: 'example.org' })), { channel: 'http', receivedAt: 1_764_000_000 });
    assert.equal(o.status, 'imported');
  });
});

/** @module test/dns/mailauth — the mailauth resolver adapter, and a real DKIM verification through it. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { createResolver, mailauthResolver } from '../../src/dns/index.js';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
// TXT strings are at most 255 bytes: split the key record like a zone file would.
const keyRecord = `v=DKIM1; k=rsa; s=tlsrpt; p=${p}`.match(/.{1,200}/g)!;

describe('mailauthResolver', () => {
  let dns: DnsTestServer;
  before(async () => {
    dns = await startDnsServer({
      'tlsrpt._domainkey.sender.example': { TXT: [keyRecord] },
      'sender.example': { MX: [{ exchange: 'mx.sender.example', priority: 10 }], A: ['192.0.2.1'], AAAA: ['2001:db8::1'] },
      'fail.example': { servfail: true },
    });
  });
  after(() => dns.close());

  it('answers in the dns.promises shapes and error codes', async () => {
    const resolve = mailauthResolver(createResolver({ servers: dns.servers, attempts: 1 }));
    assert.deepEqual(await resolve('tlsrpt._domainkey.sender.example', 'TXT'), [keyRecord]);
    assert.deepEqual(await resolve('sender.example', 'MX'), [{ exchange: 'mx.sender.example', priority: 10 }]);
    assert.deepEqual(await resolve('sender.example', 'A'), ['192.0.2.1']);
    assert.deepEqual(await resolve('sender.example', 'AAAA'), ['2001:db8::1']);
    await assert.rejects(resolve('nope.example', 'TXT'), { code: 'ENOTFOUND' });
    await assert.rejects(resolve('sender.example', 'TXT'), { code: 'ENODATA' });
    await assert.rejects(resolve('fail.example', 'TXT'), { code: 'ESERVFAIL' });
  });

  it('lets mailauth verify a DKIM signature against the loopback zone', async () => {
    const message = Buffer.from('From: tlsrpt@sender.example\r\nTo: rua@example.org\r\nSubject: Report Domain: example.org\r\nTLS-Report-Domain: example.org\r\nTLS-Report-Submitter: sender.example\r\n\r\nreport\r\n');
    const signed = await dkimSign(message, {
      signatureData: [{ signingDomain: 'sender.example', selector: 'tlsrpt', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }],
    } as never);
    const raw = Buffer.concat([Buffer.from(signed.signatures), message]);
    const res = await dkimVerify(raw, { resolver: mailauthResolver(createResolver({ servers: dns.servers })) } as never);
    assert.equal(res.results[0].status.result, 'pass', JSON.stringify(res.results[0].status));
    dns.setZone({});
    const res2 = await dkimVerify(raw, { resolver: mailauthResolver(createResolver({ servers: dns.servers })) } as never);
    assert.notEqual(res2.results[0].status.result, 'pass');
  });
});

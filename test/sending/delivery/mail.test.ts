/**
 * @module test/sending/delivery/mail — the report e-mail end to end: built, DKIM-signed, sent
 * through a real smtp-server relay; the DKIM signature verified by mailauth against a loopback
 * DNS server holding the public key; every RFC 8460 §5.3 header checked; the attachment read
 * back with our own extractor and parser.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { simpleParser } from 'mailparser';
import { buildReportMessage, createRelayMailer, signReportMessage, DKIM_HEADER_FIELDS, type ReportMessage } from '../../../src/sending/deliver/mail.js';
import { HeaderValueError } from '../../../src/sending/report/headers.js';
import { createResolver, mailauthResolver } from '../../../src/dns/index.js';
import { extractReports } from '../../../src/receiving/extract/index.js';
import { parseReport } from '../../../src/rfc8460/index.js';
import { startDnsServer, type DnsTestServer } from '../../support/dns-server.js';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.js';
import { dkimKeyPair, txtStrings } from './dkim-key.js';
import { testCa } from '../../support/https-server.js';

const reportJson = JSON.stringify({
  'organization-name': 'Bar Org',
  'date-range': { 'start-datetime': '2026-11-27T00:00:00Z', 'end-datetime': '2026-11-27T23:59:59Z' },
  'contact-info': 'tls@example.com',
  'report-id': '2026-11-27T00:00:00Z_example.net_00112233',
  policies: [{
    policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: testing'], 'policy-domain': 'example.net', 'mx-host': ['mx.example.net'] },
    summary: { 'total-successful-session-count': 30, 'total-failure-session-count': 10 },
    'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.1', 'receiving-ip': '198.51.100.7', 'receiving-mx-hostname': 'mx.example.net', 'failed-session-count': 10 }],
  }],
});

const message = (over: Partial<ReportMessage> = {}): ReportMessage => ({
  fromName: 'Report Subsystem', fromAddress: 'noreply-tls@example.com', to: 'tls-reports@example.net',
  subject: 'TLS report for example.net', reportDomain: 'example.net', submitter: 'mx.example.com',
  reportId: '2026-11-27T00:00:00Z_example.net_00112233', orgName: 'Bar Org',
  startDatetime: '2026-11-27T00:00:00Z', endDatetime: '2026-11-27T23:59:59Z',
  gz: gzipSync(reportJson), fileName: 'mx.example.com!example.net!1764201600!1764287999!00112233.json.gz',
  date: new Date('2026-11-28T00:30:00Z'), messageIdLocal: 'tlsrpt.00112233.1',
  ...over,
});

describe('report e-mail through a real relay', () => {
  let dns: DnsTestServer;
  let sink: SmtpSink;
  const pair = dkimKeyPair();
  before(async () => {
    dns = await startDnsServer({ [pair.dnsName]: { TXT: [txtStrings(pair.txt)] } });
    sink = await startSmtpSink();
  });
  after(async () => {
    await sink.close();
    await dns.close();
  });

  it('arrives DKIM-signed (verified by mailauth over loopback DNS) with every required header and the report attached', async () => {
    const raw = await buildReportMessage(message());
    const signed = await signReportMessage(raw, pair.key);
    const mailer = createRelayMailer({ host: '127.0.0.1', port: sink.port, secure: false });
    try {
      const r = await mailer.send({ from: 'noreply-tls@example.com', to: 'tls-reports@example.net' }, signed);
      assert.equal(r.kind, 'sent', JSON.stringify(r));
    } finally {
      mailer.close();
    }
    assert.equal(sink.received.length, 1);
    const got = sink.received[0];
    assert.equal(got.from, 'noreply-tls@example.com');
    assert.deepEqual(got.to, ['tls-reports@example.net']);

    const v = await dkimVerify(got.raw, { resolver: mailauthResolver(createResolver({ servers: dns.servers })) });
    assert.equal(v.results.length, 1);
    assert.equal(v.results[0].status.result, 'pass', JSON.stringify(v.results[0].status));
    assert.equal(v.results[0].signingDomain, 'example.com');
    const sigHeader = /^DKIM-Signature:([\s\S]*?)\r\n(?=\S)/m.exec(got.raw.toString())![1].replace(/\s+/g, '');
    assert.ok(!/;l=/.test(sigHeader), 'no l= tag');
    assert.ok(sigHeader.indexOf(';h=') < sigHeader.indexOf(';bh='), 'h= before bh= (naive tag scanners take the first "h=")');
    const h = /(?:^|;)h=([^;]+)/.exec(sigHeader)![1].toLowerCase().split(':');
    for (const name of ['from', 'to', 'subject', 'date', 'message-id', 'tls-report-domain', 'tls-report-submitter']) assert.ok(h.includes(name), `h= has ${name}`);
    assert.ok(dns.queries.some((q) => q.name === pair.dnsName && q.type === 'TXT'), 'the key came from the loopback DNS server');

    const parsed = await simpleParser(got.raw);
    const header = (n: string) => parsed.headers.get(n);
    assert.equal(parsed.from?.value[0].address, 'noreply-tls@example.com');
    assert.equal(parsed.from?.value[0].name, 'Report Subsystem');
    assert.equal((parsed.to as { value: { address: string }[] }).value[0].address, 'tls-reports@example.net');
    assert.equal(parsed.subject, 'TLS report for example.net');
    assert.equal(parsed.date?.toISOString(), '2026-11-28T00:30:00.000Z');
    assert.equal(parsed.messageId, '<tlsrpt.00112233.1@mx.example.com>');
    assert.equal(header('tls-report-domain'), 'example.net');
    assert.equal(header('tls-report-submitter'), 'mx.example.com');
    assert.equal(header('tls-required'), 'No');
    assert.equal(header('auto-submitted'), 'auto-generated');
    const ct = header('content-type') as { value: string; params: Record<string, string> };
    assert.equal(ct.value, 'multipart/report');
    assert.equal(ct.params['report-type'], 'tlsrpt');
    assert.match(got.raw.toString(), /^TLS-Report-Domain: example\.net\r$/m, 'RFC spelling of the header name');
    assert.ok(parsed.text?.includes('aggregate TLS report'), 'a human-readable first part');
    assert.equal(parsed.attachments.length, 1);
    assert.equal(parsed.attachments[0].contentType, 'application/tlsrpt+gzip');
    assert.equal(parsed.attachments[0].filename, 'mx.example.com!example.net!1764201600!1764287999!00112233.json.gz');

    const { payloads, message: meta } = await extractReports(got.raw);
    assert.equal(payloads.length, 1);
    assert.equal(meta.tlsReportDomain, 'example.net');
    const { report } = parseReport(payloads[0].bytes);
    assert.equal(report.policies[0].summary.totalSuccessfulSessionCount, 30);
    assert.equal(report.policies[0].summary.totalFailureSessionCount, 10);
    assert.equal(report.organizationName, 'Bar Org');
  });

  it('a tampered TLS-Report-Domain breaks the signature (the header is covered)', async () => {
    const signed = await signReportMessage(await buildReportMessage(message()), pair.key);
    const tampered = Buffer.from(signed.toString().replace('TLS-Report-Domain: example.net', 'TLS-Report-Domain: evil.example'));
    const v = await dkimVerify(tampered, { resolver: mailauthResolver(createResolver({ servers: dns.servers })) });
    assert.notEqual(v.results[0].status.result, 'pass');
  });

  it('covers the headers RFC 8460 §3 requires', () => {
    for (const n of ['TLS-Report-Domain', 'TLS-Report-Submitter', 'From', 'Subject']) assert.ok(DKIM_HEADER_FIELDS.split(':').includes(n));
  });

  it('relay answers: 550 on RCPT is permanent, 451 temporary, a relay that is down temporary', async () => {
    const mailer = createRelayMailer({ host: '127.0.0.1', port: sink.port, secure: false });
    const signed = await signReportMessage(await buildReportMessage(message()), pair.key);
    try {
      sink.setRcptReply(() => ({ code: 550, message: 'No such user' }));
      assert.equal((await mailer.send({ from: 'noreply-tls@example.com', to: 'x@example.net' }, signed)).kind, 'permanent');
      sink.setRcptReply(() => ({ code: 451, message: 'Try again later' }));
      assert.equal((await mailer.send({ from: 'noreply-tls@example.com', to: 'x@example.net' }, signed)).kind, 'temporary');
      sink.setRcptReply(undefined);
    } finally {
      mailer.close();
    }
    const down = createRelayMailer({ host: '127.0.0.1', port: 1, secure: false, connectionTimeoutMs: 2000 });
    assert.equal((await down.send({ from: 'noreply-tls@example.com', to: 'x@example.net' }, signed)).kind, 'temporary');
    down.close();
  });

  it('uses STARTTLS, validating the relay certificate against the configured CA', async () => {
    const tlsSink = await startSmtpSink({ starttls: true });
    const signed = await signReportMessage(await buildReportMessage(message()), pair.key);
    try {
      const ok = createRelayMailer({ host: 'localhost', port: tlsSink.port, secure: false, requireTLS: true, ca: testCa().caPem });
      assert.equal((await ok.send({ from: 'noreply-tls@example.com', to: 'x@example.net' }, signed)).kind, 'sent');
      ok.close();
      assert.equal(tlsSink.tlsSessions, 1);
      const untrusted = createRelayMailer({ host: 'localhost', port: tlsSink.port, secure: false, requireTLS: true });
      const r = await untrusted.send({ from: 'noreply-tls@example.com', to: 'x@example.net' }, signed);
      untrusted.close();
      assert.equal(r.kind, 'temporary');
      assert.equal(tlsSink.received.length, 1);
    } finally {
      await tlsSink.close();
    }
  });

  it('authenticates to a relay that requires it', async () => {
    const authSink = await startSmtpSink({ auth: { user: 'u', password: 'p' } });
    const signed = await signReportMessage(await buildReportMessage(message()), pair.key);
    try {
      const ok = createRelayMailer({ host: '127.0.0.1', port: authSink.port, secure: false, user: 'u', password: 'p', allowPlaintextAuth: true });
      assert.equal((await ok.send({ from: 'noreply-tls@example.com', to: 'x@example.net' }, signed)).kind, 'sent');
      ok.close();
      assert.equal(authSink.received[0].authUser, 'u');
      const bad = createRelayMailer({ host: '127.0.0.1', port: authSink.port, secure: false, user: 'u', password: 'wrong', allowPlaintextAuth: true });
      const r = await bad.send({ from: 'noreply-tls@example.com', to: 'x@example.net' }, signed);
      bad.close();
      assert.equal(r.kind, 'temporary', 'our own credentials are ours to fix; the report waits');
      assert.equal(authSink.received.length, 1);
    } finally {
      await authSink.close();
    }
  });
});

describe('header values are checked at the boundary', () => {
  const bad = ['x\r\nBcc: victim@example.org', 'x\nX-Injected: 1', 'x\rY', 'x\u0000y'];
  const fields: (keyof ReportMessage)[] = ['fromName', 'fromAddress', 'to', 'subject', 'reportDomain', 'submitter', 'fileName', 'messageIdLocal'];
  for (const field of fields) {
    it(`${field}: CR, LF and NUL are refused, nothing is built`, async () => {
      for (const value of bad) {
        await assert.rejects(buildReportMessage(message({ [field]: field === 'fromAddress' || field === 'to' ? `a${value}@example.com` : value })), (e: Error) => e instanceof HeaderValueError || /Message-ID/.test(e.message));
      }
    });
  }
  it('addresses and domains must be what their header takes', async () => {
    await assert.rejects(buildReportMessage(message({ fromAddress: 'Evil <x@example.com>' })), HeaderValueError);
    await assert.rejects(buildReportMessage(message({ to: 'a@b@c' })), HeaderValueError);
    await assert.rejects(buildReportMessage(message({ submitter: 'mx example com' })), HeaderValueError);
    await assert.rejects(buildReportMessage(message({ reportDomain: 'example.net>' })), HeaderValueError);
  });
  it('non-ASCII text is encoded, not passed raw', async () => {
    const raw = (await buildReportMessage(message({ subject: 'TLS-Bericht für example.net', fromName: 'Prüfstelle' }))).toString();
    assert.ok(/^Subject: =\?UTF-8\?/m.test(raw));
    assert.ok(/^From: =\?UTF-8\?/m.test(raw));
    assert.ok(!/[^\x00-\x7f]/.test(raw), 'the message is 7-bit');
  });
});

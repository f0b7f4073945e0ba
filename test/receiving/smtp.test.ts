/**
 * The SMTP/LMTP listener against raw clients and a real onward relay (smtp-sink): report
 * addresses only (550 for others), SIZE advertised and enforced while streaming (552),
 * recipient and per-client connection limits, LMTP's one reply per recipient, onward relaying
 * of other mail and forwarding of report mail, 451 when the store fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { forEachStore } from '../support/stores.js';
import { createResolver, mailauthResolver } from '../../src/dns/index.js';
import { createIngestor, type Ingestor } from '../../src/receiving/pipeline/ingest.js';
import { createSmtpListener, type SmtpListener, type SmtpListenerOptions } from '../../src/receiving/sources/smtp.js';
import { silentLog } from '../../src/common/log.js';
import { rawSmtp } from './support/smtp-client.js';
import { buildReportMail } from './support/report-mail.js';
import { makeReport } from './support/reports.js';

let dns: DnsTestServer;
before(async () => { dns = await startDnsServer({}); });
after(() => dns.close());

let serial = 0;
const reportMail = () => buildReportMail({ reportJson: makeReport({ submitter: 'sender.example', policyDomain: 'example.org', successful: 500 + ++serial }), policyDomain: 'example.org', submitter: 'sender.example' });
const plainMail = Buffer.from('From: cron@example.org\r\nTo: postmaster@example.org\r\nSubject: cron output\r\n\r\nall good\r\n');

async function listener(ingestor: Ingestor, o: Partial<SmtpListenerOptions> = {}): Promise<SmtpListener> {
  const l = createSmtpListener({ host: '127.0.0.1', port: 0, ingestor, log: silentLog, inbound: () => ({ addresses: ['postmaster@*', '*@reports.example.org'], forwarding: false }), ...o });
  await l.start();
  return l;
}

forEachStore('SMTP listener', (open) => {
  it('accepts report addresses, refuses others with 550, stores the report and bounces a non-report with the reason', async () => {
    const store = await open();
    const l = await listener(createIngestor({ store, log: silentLog, resolver: mailauthResolver(createResolver({ servers: dns.servers })) }));
    const c = await rawSmtp(l.port);
    try {
      assert.equal(c.greeting.code, 220);
      const ehlo = await c.cmd('EHLO client.example');
      assert.match(ehlo.text, /SIZE 31457280/);
      assert.doesNotMatch(ehlo.text, /STARTTLS|AUTH/);
      assert.equal((await c.cmd('MAIL FROM:<r@sender.example>')).code, 250);
      const refused = await c.cmd('RCPT TO:<someone@example.org>');
      assert.equal(refused.code, 550);
      assert.match(refused.text, /only TLS report mail/);
      assert.equal((await c.cmd('RCPT TO:<Postmaster@example.org>')).code, 250);
      assert.equal((await c.cmd('RCPT TO:<tlsrpt@reports.example.org>')).code, 250);
      const [stored] = await c.data(reportMail());
      assert.equal(stored.code, 250, stored.text);
      assert.match(stored.text, /imported/);
      assert.equal((await c.cmd('MAIL FROM:<cron@example.org>')).code, 250);
      assert.equal((await c.cmd('RCPT TO:<postmaster@example.org>')).code, 250);
      const [bounced] = await c.data(plainMail);
      assert.equal(bounced.code, 550);
      assert.match(bounced.text, /not-a-report/);
    } finally {
      c.close();
      await l.stop();
    }
    assert.equal(Number((await store.db.selectFrom('inbound_report').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 1);
  });

  it('LMTP answers once per recipient after DATA', async () => {
    const store = await open();
    const l = await listener(createIngestor({ store, log: silentLog, resolver: mailauthResolver(createResolver({ servers: dns.servers })) }), { lmtp: true });
    const c = await rawSmtp(l.port);
    try {
      assert.match(c.greeting.text, /LMTP/);
      assert.equal((await c.cmd('LHLO client.example')).code, 250);
      await c.cmd('MAIL FROM:<r@sender.example>');
      assert.equal((await c.cmd('RCPT TO:<postmaster@a.example>')).code, 250);
      assert.equal((await c.cmd('RCPT TO:<x@reports.example.org>')).code, 250);
      assert.equal((await c.cmd('RCPT TO:<nobody@a.example>')).code, 550);
      const replies = await c.data(reportMail(), 2);
      assert.deepEqual(replies.map((r) => r.code), [250, 250]);
      await c.cmd('MAIL FROM:<cron@example.org>');
      await c.cmd('RCPT TO:<postmaster@a.example>');
      await c.cmd('RCPT TO:<postmaster@b.example>');
      assert.deepEqual((await c.data(plainMail, 2)).map((r) => r.code), [550, 550]);
    } finally {
      c.close();
      await l.stop();
    }
  });

  it('answers 451 (try again) when the store cannot take the report', async () => {
    const store = await open();
    const l = await listener(createIngestor({ store, log: silentLog, save: async () => { throw new Error('disk full'); } }));
    const c = await rawSmtp(l.port);
    try {
      await c.cmd('EHLO c');
      await c.cmd('MAIL FROM:<r@sender.example>');
      await c.cmd('RCPT TO:<postmaster@example.org>');
      const [r] = await c.data(reportMail());
      assert.equal(r.code, 451);
    } finally {
      c.close();
      await l.stop();
    }
  });
});

describe('SMTP listener limits and relaying', () => {
  const accepting: Ingestor = { ingest: async () => [{ status: 'imported', id: 1, reportId: 'r1' }] };
  let sink: SmtpSink;
  before(async () => { sink = await startSmtpSink(); });
  after(() => sink.close());

  it('refuses a declared SIZE over the limit, and a message that streams past it (552), then carries on', async () => {
    const l = await listener(accepting, { maxMessageBytes: 10_000 });
    const c = await rawSmtp(l.port);
    try {
      await c.cmd('EHLO c');
      assert.equal((await c.cmd('MAIL FROM:<r@s.example> SIZE=20000')).code, 552);
      await c.cmd('MAIL FROM:<r@s.example>');
      await c.cmd('RCPT TO:<postmaster@example.org>');
      const [big] = await c.data(Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(50_000, 'a')]));
      assert.equal(big.code, 552);
      await c.cmd('MAIL FROM:<r@s.example>');
      await c.cmd('RCPT TO:<postmaster@example.org>');
      assert.equal((await c.data(reportMail()))[0].code, 250);
    } finally {
      c.close();
      await l.stop();
    }
  });

  it('limits recipients per message and connections per client address', async () => {
    const l = await listener(accepting, { maxRecipients: 3, maxClientsPerAddress: 2 });
    const a = await rawSmtp(l.port);
    const b = await rawSmtp(l.port);
    try {
      const c = await rawSmtp(l.port);
      assert.equal(c.greeting.code, 421);
      c.close();
      await a.cmd('EHLO a');
      await a.cmd('MAIL FROM:<r@s.example>');
      for (let i = 0; i < 3; i++) assert.equal((await a.cmd(`RCPT TO:<postmaster@d${i}.example>`)).code, 250);
      assert.equal((await a.cmd('RCPT TO:<postmaster@d9.example>')).code, 452);
    } finally {
      a.close();
      b.close();
    }
    // A closed connection frees its slot.
    await new Promise((r) => setTimeout(r, 100));
    const d = await rawSmtp(l.port);
    assert.equal(d.greeting.code, 220);
    d.close();
    await l.stop();
  });

  it('offers STARTTLS with the configured certificate, and report mail arrives over it', async () => {
    const { testCa } = await import('../support/https-server.js');
    const nodemailer = (await import('nodemailer')).default;
    const ca = testCa();
    const seen: string[] = [];
    const ingestor: Ingestor = { ingest: async () => { seen.push('x'); return [{ status: 'imported', id: 1, reportId: 'r' }]; } };
    const l = await listener(ingestor, { tls: { key: ca.keyPem, cert: ca.certPem } });
    try {
      const c = await rawSmtp(l.port);
      assert.match((await c.cmd('EHLO c')).text, /STARTTLS/);
      c.close();
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: l.port, secure: false, requireTLS: true, tls: { ca: ca.caPem, servername: 'localhost' } });
      const info = await t.sendMail({ envelope: { from: 'r@s.example', to: ['postmaster@example.org'] }, raw: reportMail() });
      assert.match(String(info.response), /^250 /);
      assert.equal(seen.length, 1);
      t.close();
    } finally {
      await l.stop();
    }
  });

  it('relays other recipients onward; forwards report mail only when inboundReportForwarding', async () => {
    let forwarding = false;
    const seen: string[] = [];
    const ingestor: Ingestor = { ingest: async (_b, m) => { seen.push(m.envelope!.rcptTo!.join(',')); return [{ status: 'imported', id: 1 }]; } };
    const l = await listener(ingestor, { onward: { host: '127.0.0.1', port: sink.port, domains: ['example.org'] }, inbound: () => ({ addresses: ['postmaster@*'], forwarding }) });
    const c = await rawSmtp(l.port);
    try {
      await c.cmd('EHLO c');
      await c.cmd('MAIL FROM:<a@s.example>');
      assert.equal((await c.cmd('RCPT TO:<alice@example.org>')).code, 250);
      assert.equal((await c.cmd('RCPT TO:<postmaster@example.org>')).code, 250);
      assert.equal((await c.data(reportMail()))[0].code, 250);
      assert.deepEqual(seen, ['postmaster@example.org']);
      assert.deepEqual(sink.received.map((m) => m.to), [['alice@example.org']]);
      forwarding = true;
      await c.cmd('MAIL FROM:<a@s.example>');
      await c.cmd('RCPT TO:<postmaster@example.org>');
      assert.equal((await c.data(reportMail()))[0].code, 250);
      assert.deepEqual(sink.received.map((m) => m.to), [['alice@example.org'], ['postmaster@example.org']]);
      assert.match(sink.received[1].raw.toString(), /TLS-Report-Domain: example.org/);
    } finally {
      c.close();
      await l.stop();
    }
  });

  it('is no open relay: outside recipients get 550 5.7.1, listed domains are relayed with a Received: header, report mail is analysed', async () => {
    const seen: string[] = [];
    const ingestor: Ingestor = { ingest: async (_b, m) => { seen.push(m.envelope!.rcptTo!.join(',')); return [{ status: 'imported', id: 1 }]; } };
    const l = await listener(ingestor, {
      hostname: 'mx.example.com', onward: { host: '127.0.0.1', port: sink.port, domains: ['local.example', '*.sub.example'] },
      inbound: () => ({ addresses: ['postmaster@*'], forwarding: false }),
    });
    const before = sink.received.length;
    const c = await rawSmtp(l.port);
    try {
      await c.cmd('EHLO outside.example');
      await c.cmd('MAIL FROM:<spammer@outside.example>');
      const denied = await c.cmd('RCPT TO:<victim@elsewhere.example>');
      assert.equal(denied.code, 550);
      assert.match(denied.text, /5\.7\.1 .*relaying denied/);
      assert.equal((await c.cmd('RCPT TO:<x@sub.example>')).code, 550, 'only subdomains of *.sub.example');
      assert.equal((await c.cmd('RCPT TO:<root@Local.Example>')).code, 250);
      assert.equal((await c.cmd('RCPT TO:<a@deep.sub.example>')).code, 250);
      assert.equal((await c.cmd('RCPT TO:<postmaster@elsewhere.example>')).code, 250);
      assert.equal((await c.data(reportMail()))[0].code, 250);
    } finally {
      c.close();
      await l.stop();
    }
    assert.deepEqual(seen, ['postmaster@elsewhere.example']);
    const relayed = sink.received.slice(before);
    assert.deepEqual(relayed.map((m) => m.to), [['root@local.example', 'a@deep.sub.example']]);
    assert.match(relayed[0].raw.toString(), /^Received: from outside\.example \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.com \(tlsrpt-hub\) with E?SMTP id \S+;\r\n\t\w{3}, \d\d \w{3} \d{4} [\d:]{8} \+0000\r\n/);
  });
});

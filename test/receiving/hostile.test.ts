/**
 * Hostile inputs on every channel (HTTP POST, SMTP, LMTP, IMAP from Dovecot, file import):
 * gzip and zip bombs, malformed and deeply nested MIME, huge headers, deep JSON, binary
 * garbage and non-report mail are refused with a reason (never 'failed', never stored), the
 * service stays up, and the valid reports sent around them are all stored. Both stores.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';
import { startDovecot, type TestDovecot } from '../support/dovecot.js';
import { forEachStore } from '../support/stores.js';
import { createResolver, mailauthResolver } from '../../src/dns/index.js';
import { createIngestor } from '../../src/receiving/pipeline/ingest.js';
import { silentLog } from '../../src/common/log.js';
import { CHANNELS, openChannel, recording, type ChannelName, type Delivery } from './support/channels.js';
import { buildReportMail } from './support/report-mail.js';
import { makeReport } from './support/reports.js';

let dns: DnsTestServer;
let dovecot: TestDovecot;
let zipBomb: Buffer;
before(async () => {
  dns = await startDnsServer({});
  dovecot = await startDovecot({ users: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`h${i}`, 'pw'])) });
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-zipbomb-'));
  writeFileSync(path.join(dir, 'report.json'), Buffer.alloc(60_000_000, 0x20));
  execFileSync('zip', ['-q', '-9', '-j', path.join(dir, 'bomb.zip'), path.join(dir, 'report.json')]);
  zipBomb = readFileSync(path.join(dir, 'bomb.zip'));
  rmSync(dir, { recursive: true, force: true });
});
after(async () => {
  await dovecot?.stop();
  await dns?.close();
});

let serial = 0;
const validJson = () => Buffer.from(makeReport({ submitter: 'sender.example', policyDomain: 'example.org', successful: 10, failed: 2 + (++serial), reportId: `valid-${serial}` }));
const gzipBomb = gzipSync(Buffer.alloc(60_000_000, 0x20), { level: 9 });
const deepJson = Buffer.from(`{"policies": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
const mailWith = (attachment: Buffer, plain = false) => buildReportMail({ reportJson: '', attachment, plain, policyDomain: 'example.org', submitter: 'sender.example' });

/** The hostile inputs, shaped for the channel: bare bodies over HTTP, e-mails elsewhere (files take both). */
function hostile(channel: ChannelName): Delivery[] {
  const mailChannel = channel !== 'http';
  const nested = `From: x@y.example\r\nSubject: nested\r\nMIME-Version: 1.0\r\n${Array.from({ length: 300 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`).join('')}\r\n`;
  const items: Delivery[] = [
    { name: 'gzip-bomb', raw: mailChannel ? mailWith(gzipBomb) : gzipBomb },
    { name: 'zip-bomb', raw: mailChannel ? mailWith(zipBomb) : zipBomb },
    { name: 'deep-json', raw: mailChannel ? mailWith(deepJson, true) : deepJson },
    { name: 'garbage', raw: randomBytes(20_000) },
    { name: 'dmarc', raw: mailChannel
      ? Buffer.from('From: noreply-dmarc@google.com\r\nSubject: Report domain: example.org\r\nContent-Type: application/zip; name="google.com!example.org!1!2.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBAoAAAAAAA==\r\n')
      : Buffer.from('<?xml version="1.0"?><feedback><report_metadata><org_name>google.com</org_name></report_metadata></feedback>') },
  ];
  if (mailChannel) {
    items.push(
      { name: 'malformed-mime', raw: Buffer.from('From: a@b.example\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary="x"\r\n\r\n--x\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64 at all!!!\r\n--x') },
      { name: 'nested-mime', raw: Buffer.from(nested) },
      { name: 'huge-headers', raw: Buffer.from(`From: a@b.example\r\n${Array.from({ length: 20_000 }, (_, i) => `X-Filler-${i}: ${'h'.repeat(90)}`).join('\r\n')}\r\nSubject: huge\r\n\r\nno report here\r\n`) },
      { name: 'cron', raw: Buffer.from('From: cron@example.org\r\nSubject: cron\r\n\r\nbackup done\r\n') },
    );
  }
  return items;
}

forEachStore('hostile inputs on every channel', (open) => {
  let user = 0;
  for (const channel of CHANNELS) {
    it(`${channel}: refuses each with a reason, stays up, stores the valid reports around them`, async () => {
      const store = await open();
      const rec = recording(createIngestor({ store, log: silentLog, resolver: mailauthResolver(createResolver({ servers: dns.servers })), limits: () => ({ maxDecompressedBytes: 5_000_000 }) }));
      const ch = await openChannel(channel, rec.ingestor, { dovecot, imapUser: `h${user++}` });
      const bad = hostile(channel);
      const sequence: Delivery[] = [{ name: 'valid-first', json: validJson() }];
      for (const b of bad) sequence.push(b, { name: `valid-after-${b.name}`, json: validJson() });
      try {
        // One by one, so each outcome can be matched to its input (IMAP and import also process in order).
        for (const d of sequence) await ch.deliver([d]);
      } finally {
        await ch.close();
      }
      assert.equal(rec.outcomes.length, sequence.length, `each input reached the pipeline: ${JSON.stringify(ch.replies).slice(0, 2000)}`);
      rec.outcomes.forEach((outcomes, i) => {
        const name = sequence[i].name;
        if (name.startsWith('valid')) {
          assert.deepEqual(outcomes.map((o) => o.status), ['imported'], `${name}: ${JSON.stringify(outcomes)}`);
          return;
        }
        // An input that yields no outcome at all was neither refused nor explained: a failure.
        assert.ok(outcomes.length > 0, `${name} yielded no outcome`);
        for (const o of outcomes) {
          assert.ok(o.status === 'not-a-report' || o.status === 'rejected', `${name}: ${JSON.stringify(o)}`);
          assert.ok((o.reason ?? '').length > 10, `${name} has a reason: ${JSON.stringify(o)}`);
        }
      });
      const codes = Object.fromEntries(rec.outcomes.map((o, i) => [sequence[i].name, o[0].code]));
      assert.match(codes['gzip-bomb']!, /decompressed-too-large|compression-ratio/);
      assert.match(codes['zip-bomb']!, /decompressed-too-large|compression-ratio/);
      assert.equal(codes['deep-json'], 'too-deep');
      const stored = await store.db.selectFrom('inbound_report').select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum<number>('total_successful').as('s')]).executeTakeFirstOrThrow();
      assert.equal(Number(stored.n), bad.length + 1);
      assert.equal(Number(stored.s), 10 * (bad.length + 1));
      if (channel === 'http') {
        const codesByName = ch.replies.map((r) => `${r.name} ${r.reply.slice(0, 3)}`);
        assert.ok(codesByName.filter((c) => !c.startsWith('valid')).every((c) => / (400|413)$/.test(c)), codesByName.join(', '));
      }
      if (channel === 'smtp' || channel === 'lmtp') {
        const refusals = ch.replies.filter((r) => !r.name.startsWith('valid'));
        assert.ok(refusals.every((r) => /^(error )?55\d /.test(r.reply)), JSON.stringify(refusals));
      }
    });
  }
});

it('http: a request with 100 KB of headers is refused by the server (431), which stays up', async () => {
  const { createApp } = await import('../../src/http/app.js');
  const { listen } = await import('../../src/http/server.js');
  const { reportEndpointRoutes } = await import('../../src/http/routes/report-endpoint.js');
  const app = createApp();
  app.route('/', reportEndpointRoutes({ ingestor: { ingest: async () => [{ status: 'imported', id: 1 }] }, log: silentLog, maxBodyBytes: 1000, ratePerMinute: 1000 }));
  const server = await listen(app, '127.0.0.1', 0);
  try {
    const { post } = await import('./support/http-client.js');
    const big = await post(`http://127.0.0.1:${server.port}/tlsrpt`, Buffer.from('{}'), { headers: { 'x-filler': 'h'.repeat(100_000) } }).catch((e: Error) => ({ status: -1, error: e.message }));
    assert.equal(big.status, 431);
    assert.equal((await post(`http://127.0.0.1:${server.port}/tlsrpt`, Buffer.from('{}'))).status, 201);
  } finally {
    await server.close();
  }
});

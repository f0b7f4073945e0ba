/**
 * Issue 10 item 6: passwords never cross the network in clear. With credentials and no implicit
 * TLS, the relay client requires STARTTLS and the IMAP poller requires STARTTLS before LOGIN,
 * unless the config says `allowPlaintextAuth: true`. Real peers: smtp-sink (AUTH, no STARTTLS)
 * and a raw IMAP server that records every command it hears.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startSmtpSink } from '../support/smtp-sink.js';
import { createRelayMailer } from '../../src/sending/deliver/mail.js';
import { createImapPoller } from '../../src/receiving/sources/imap.js';
import { ImapAccountSection as ImapAccountConfig } from '../../src/settings/sections/index.js';
import { silentLog } from '../../src/common/log.js';
import type { Ingestor } from '../../src/receiving/pipeline/ingest.js';

const raw = Buffer.from('From: a@example.com\r\nTo: b@example.net\r\nSubject: t\r\n\r\nhello\r\n');

/** An IMAP server without STARTTLS that keeps the lines it receives (and accepts any LOGIN). */
async function plainImap(): Promise<{ port: number; heard: string[]; close(): Promise<void> }> {
  const heard: string[] = [];
  const server = net.createServer((s) => {
    s.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN] plain test server\r\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        heard.push(line);
        const [tag, cmd] = line.split(' ');
        if (/^capability$/i.test(cmd)) s.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN\r\n${tag} OK done\r\n`);
        else if (/^logout$/i.test(cmd)) { s.write(`* BYE\r\n${tag} OK bye\r\n`); s.end(); }
        else s.write(`${tag} NO not in this test\r\n`);
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, heard, close: () => new Promise((r) => server.close(() => r())) };
}

describe('credentials need TLS', () => {
  it('relay: with a user and no TLS offered, nothing is sent and AUTH never happens; allowPlaintextAuth permits it', async () => {
    const sink = await startSmtpSink({ auth: { user: 'u', password: 'p' } });
    try {
      const strict = createRelayMailer({ host: '127.0.0.1', port: sink.port, secure: false, user: 'u', password: 'p' });
      const r = await strict.send({ from: 'a@example.com', to: 'b@example.net' }, raw);
      strict.close();
      assert.notEqual(r.kind, 'sent');
      assert.equal(sink.received.length, 0);
      const allowed = createRelayMailer({ host: '127.0.0.1', port: sink.port, secure: false, user: 'u', password: 'p', allowPlaintextAuth: true });
      assert.equal((await allowed.send({ from: 'a@example.com', to: 'b@example.net' }, raw)).kind, 'sent');
      allowed.close();
      assert.equal(sink.received[0].authUser, 'u');
    } finally {
      await sink.close();
    }
  });

  it('imap: secure:false without STARTTLS fails before LOGIN; allowPlaintextAuth logs in', async () => {
    const imap = await plainImap();
    const ingestor: Ingestor = { ingest: async () => [] };
    try {
      const strict = createImapPoller({ account: ImapAccountConfig.parse({ host: '127.0.0.1', port: imap.port, secure: false, user: 'u', password: 'secret-pw' }), ingestor, log: silentLog });
      await strict.pollOnce().catch(() => {});
      await strict.stop();
      assert.equal(imap.heard.some((l) => /LOGIN|AUTHENTICATE|secret-pw/i.test(l)), false, imap.heard.join(' | '));
      const allowed = createImapPoller({ account: ImapAccountConfig.parse({ host: '127.0.0.1', port: imap.port, secure: false, allowPlaintextAuth: true, user: 'u', password: 'secret-pw' }), ingestor, log: silentLog });
      await allowed.pollOnce().catch(() => {});
      await allowed.stop();
      assert.equal(imap.heard.some((l) => /LOGIN|AUTHENTICATE/i.test(l)), true, imap.heard.join(' | '));
    } finally {
      await imap.close();
    }
  });
});

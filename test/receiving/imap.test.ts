/**
 * The IMAP poller against a real Dovecot: stored and duplicate reports are flagged and moved to
 * TLSRPT/Processed, non-reports and oversized mail to TLSRPT/Failed, nothing is deleted unless
 * configured; a restart resumes with what is left; a message whose storage failed stays in the
 * mailbox and is retried; an unreachable server does not throw.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';
import { startDovecot, type TestDovecot } from '../support/dovecot.js';
import { forEachStore } from '../support/stores.js';
import { createResolver, mailauthResolver } from '../../src/dns/index.js';
import { createIngestor, type Ingestor } from '../../src/receiving/pipeline/ingest.js';
import { createImapPoller, PROCESSED_KEYWORD } from '../../src/receiving/sources/imap.js';
import { ImapAccountSection as ImapAccountConfig } from '../../src/settings/sections/index.js';
import { silentLog } from '../../src/common/log.js';
import { buildReportMail } from './support/report-mail.js';
import { makeReport } from './support/reports.js';

let dns: DnsTestServer;
let dovecot: TestDovecot;
before(async () => {
  dns = await startDnsServer({});
  dovecot = await startDovecot({ users: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`m${i}`, 'pw'])) });
});
after(async () => {
  await dovecot?.stop();
  await dns?.close();
});

let nextUser = 0;
let serial = 0;
const reportMail = () => buildReportMail({ reportJson: makeReport({ submitter: 'sender.example', policyDomain: 'example.org', successful: 700 + ++serial }), policyDomain: 'example.org', submitter: 'sender.example' });
const plainMail = () => Buffer.from(`From: cron@example.org\r\nTo: reports@example.org\r\nSubject: cron ${++serial}\r\n\r\nnothing to see\r\n`);

async function mailbox(user: string) {
  const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user, pass: 'pw' }, logger: false });
  await client.connect();
  const list = async (box: string) => {
    // A missing folder throws here: "empty" must never also mean "not there".
    const lock = await client.getMailboxLock(box);
    try {
      const out: { uid: number; flags: string[]; subject?: string }[] = [];
      // FETCH 1:* on an empty folder is an error in IMAP: ask only when there is something.
      if (client.mailbox && client.mailbox.exists === 0) return out;
      for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true })) out.push({ uid: m.uid, flags: [...(m.flags ?? [])], subject: m.envelope?.subject });
      return out;
    } finally {
      lock.release();
    }
  };
  return { client, list, close: () => client.logout() };
}

const account = (user: string, extra: Record<string, unknown> = {}) => ImapAccountConfig.parse({ host: dovecot.host, port: dovecot.port, secure: false, allowPlaintextAuth: true, user, password: 'pw', pollSeconds: 3600, ...extra });

forEachStore('IMAP poller', (open) => {
  it('moves stored and duplicate reports to TLSRPT/Processed and non-reports to TLSRPT/Failed, flagged, deleting nothing', async () => {
    const store = await open();
    const user = `m${nextUser++}`;
    const box = await mailbox(user);
    const report = reportMail();
    await box.client.append('INBOX', report);
    await box.client.append('INBOX', report); // the same report twice: a duplicate
    await box.client.append('INBOX', plainMail());
    const ingestor = createIngestor({ store, log: silentLog, resolver: mailauthResolver(createResolver({ servers: dns.servers })) });
    const poller = createImapPoller({ account: account(user), ingestor, log: silentLog });
    try {
      assert.deepEqual(await poller.pollOnce(), { seen: 3, processed: 2, failed: 1, retryLater: 0 });
      assert.deepEqual(await box.list('INBOX'), []);
      const processed = await box.list('TLSRPT/Processed');
      assert.equal(processed.length, 2);
      assert.ok(processed.every((m) => m.flags.includes('\\Seen') && m.flags.includes(PROCESSED_KEYWORD)), JSON.stringify(processed));
      const failed = await box.list('TLSRPT/Failed');
      assert.deepEqual(failed.map((m) => m.subject), [`cron ${serial}`]);
      assert.deepEqual(await poller.pollOnce(), { seen: 0, processed: 0, failed: 0, retryLater: 0 });
    } finally {
      await poller.stop();
      await box.close();
    }
    const n = await store.db.selectFrom('inbound_report').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 1);
  });

  it('resumes after a restart: a new poller takes what is left, flagged messages that could not be moved are not taken again', async () => {
    const store = await open();
    const user = `m${nextUser++}`;
    const box = await mailbox(user);
    const ingestor = createIngestor({ store, log: silentLog, resolver: mailauthResolver(createResolver({ servers: dns.servers })) });
    await box.client.append('INBOX', reportMail());
    const first = createImapPoller({ account: account(user), ingestor, log: silentLog });
    assert.equal((await first.pollOnce()).processed, 1);
    await first.stop();
    // A message handled by an earlier run that crashed before moving it: flagged, still in INBOX.
    await box.client.append('INBOX', reportMail(), ['\\Seen', PROCESSED_KEYWORD]);
    await box.client.append('INBOX', reportMail());
    const second = createImapPoller({ account: account(user), ingestor, log: silentLog });
    try {
      assert.deepEqual(await second.pollOnce(), { seen: 1, processed: 1, failed: 0, retryLater: 0 });
      assert.equal((await box.list('INBOX')).length, 1, 'the flagged one stays');
      assert.equal((await box.list('TLSRPT/Processed')).length, 2);
    } finally {
      await second.stop();
      await box.close();
    }
  });

  it('deletes processed messages only when deleteProcessed; oversized ones go to Failed undownloaded', async () => {
    const store = await open();
    const user = `m${nextUser++}`;
    const box = await mailbox(user);
    await box.client.append('INBOX', reportMail());
    await box.client.append('INBOX', Buffer.concat([Buffer.from('Subject: huge\r\n\r\n'), Buffer.alloc(200_000, 'x')]));
    let calls = 0;
    const inner = createIngestor({ store, log: silentLog, resolver: mailauthResolver(createResolver({ servers: dns.servers })) });
    const counting: Ingestor = { ingest: (b, m) => { calls++; return inner.ingest(b, m); } };
    const poller = createImapPoller({ account: account(user, { deleteProcessed: true, maxMessageBytes: 100_000 }), ingestor: counting, log: silentLog });
    try {
      assert.deepEqual(await poller.pollOnce(), { seen: 2, processed: 1, failed: 1, retryLater: 0 });
      assert.equal(calls, 1, 'the oversized message was not handed to the pipeline');
      assert.deepEqual(await box.list('INBOX'), []);
      assert.deepEqual(await box.list('TLSRPT/Processed'), []);
      assert.deepEqual((await box.list('TLSRPT/Failed')).map((m) => m.subject), ['huge']);
    } finally {
      await poller.stop();
      await box.close();
    }
  });

  it('leaves a message whose storage failed in the mailbox and retries it; gives up after maxAttempts', async () => {
    const store = await open();
    const user = `m${nextUser++}`;
    const box = await mailbox(user);
    await box.client.append('INBOX', reportMail());
    let failing = true;
    const real = createIngestor({ store, log: silentLog, resolver: mailauthResolver(createResolver({ servers: dns.servers })) });
    const broken = createIngestor({ store, log: silentLog, save: async () => { throw new Error('store down'); } });
    const flaky: Ingestor = { ingest: (b, m) => (failing ? broken : real).ingest(b, m) };
    const poller = createImapPoller({ account: account(user, { maxAttempts: 3 }), ingestor: flaky, log: silentLog });
    try {
      assert.deepEqual(await poller.pollOnce(), { seen: 1, processed: 0, failed: 0, retryLater: 1 });
      assert.equal((await box.list('INBOX')).length, 1);
      failing = false;
      assert.deepEqual(await poller.pollOnce(), { seen: 1, processed: 1, failed: 0, retryLater: 0 });
      failing = true;
      await box.client.append('INBOX', reportMail());
      assert.equal((await poller.pollOnce()).retryLater, 1);
      assert.equal((await poller.pollOnce()).retryLater, 1);
      assert.equal((await poller.pollOnce()).failed, 1, 'third failure: moved to Failed');
    } finally {
      await poller.stop();
      await box.close();
    }
  });
});

it('an unreachable IMAP server or wrong password makes a poll fail quietly, not throw', async () => {
  const ingestor: Ingestor = { ingest: async () => [] };
  const wrong = createImapPoller({ account: account('m11', { password: 'nope' }), ingestor, log: silentLog });
  assert.deepEqual(await wrong.pollOnce(), { seen: 0, processed: 0, failed: 0, retryLater: 0 });
  await wrong.stop();
  const down = createImapPoller({ account: ImapAccountConfig.parse({ host: '127.0.0.1', port: 1, secure: false, user: 'x', password: 'y' }), ingestor, log: silentLog });
  assert.deepEqual(await down.pollOnce(), { seen: 0, processed: 0, failed: 0, retryLater: 0 });
  await down.stop();
});

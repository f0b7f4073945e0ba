/**
 * Every real-world fixture arrives through each channel — HTTP POST, SMTP and LMTP to the
 * listener, IMAP from a real Dovecot, and file import — and yields the same stored totals
 * (12 distinct reports, 5406 successful and 312 failed sessions, counted by hand from the
 * fixtures); sending everything again through another channel only finds duplicates.
 * On SQLite and PostgreSQL.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';
import { startDovecot, type TestDovecot } from '../support/dovecot.js';
import { forEachStore } from '../support/stores.js';
import { createResolver, mailauthResolver } from '../../src/dns/index.js';
import { createIngestor } from '../../src/receiving/pipeline/ingest.js';
import { silentLog } from '../../src/common/log.js';
import type { Store } from '../../src/store/index.js';
import { CHANNELS, openChannel, recording, type Delivery } from './support/channels.js';
import { fixtureFiles } from './support/reports.js';

/** Distinct reports among the fixtures (rpt01 = RFC example ×3 + its e-mail; rpt02 json = its e-mail). */
const EXPECTED = { reports: 12, successful: 5406, failed: 312 };

let dns: DnsTestServer;
let dovecot: TestDovecot;
before(async () => {
  // No DKIM keys are served: the fixtures' real signatures cannot verify here, and are flagged (policy "flag").
  dns = await startDnsServer({});
  dovecot = await startDovecot({ users: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`u${i}`, `secret${i}`])) });
});
after(async () => {
  await dovecot?.stop();
  await dns?.close();
});

let imapUser = 0;
const deliveries = (): Delivery[] => fixtureFiles().map((f) => {
  const bytes = readFileSync(f);
  return f.endsWith('.eml') ? { name: path.basename(f), email: bytes } : { name: path.basename(f), json: bytes };
});

async function totals(store: Store) {
  const r = await store.db.selectFrom('inbound_report')
    .select((eb) => [eb.fn.countAll().as('reports'), eb.fn.sum<number>('total_successful').as('successful'), eb.fn.sum<number>('total_failed').as('failed')])
    .executeTakeFirstOrThrow();
  return { reports: Number(r.reports), successful: Number(r.successful), failed: Number(r.failed) };
}

forEachStore('every fixture through every channel', (open) => {
  for (const [i, channel] of CHANNELS.entries()) {
    const second = CHANNELS[(i + 1) % CHANNELS.length];
    it(`${channel}: stores the fixtures with the expected totals; again by ${second}: duplicates only`, async () => {
      const store = await open();
      const resolver = mailauthResolver(createResolver({ servers: dns.servers }));
      const rec = recording(createIngestor({ store, log: silentLog, resolver }));
      const first = await openChannel(channel, rec.ingestor, { dovecot, imapUser: `u${imapUser++}` });
      try {
        await first.deliver(deliveries());
      } finally {
        await first.close();
      }
      const flat = rec.outcomes.flat();
      assert.equal(rec.outcomes.length, deliveries().length, `every fixture reached the pipeline: ${JSON.stringify(first.replies)}`);
      assert.deepEqual(flat.filter((o) => o.status !== 'imported' && o.status !== 'duplicate'), [], 'no fixture refused');
      assert.equal(flat.filter((o) => o.status === 'imported').length, EXPECTED.reports);
      assert.deepEqual(await totals(store), EXPECTED);

      const again = recording(createIngestor({ store, log: silentLog, resolver }));
      const other = await openChannel(second, again.ingestor, { dovecot, imapUser: `u${imapUser++}` });
      try {
        await other.deliver(deliveries());
      } finally {
        await other.close();
      }
      assert.deepEqual(again.outcomes.flat().map((o) => o.status), deliveries().map(() => 'duplicate'), JSON.stringify(other.replies));
      assert.deepEqual(await totals(store), EXPECTED);
      if (channel === 'http') assert.ok(first.replies.every((r) => r.reply.startsWith('201 ')), JSON.stringify(first.replies));
      if (channel === 'smtp' || channel === 'lmtp') assert.ok(first.replies.every((r) => /^250 /.test(r.reply)), JSON.stringify(first.replies));
    });
  }
});

/** @module test/analysis/retention — the inbound retention purge with an injected clock, on both databases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { forEachStore, type TestStore } from '../support/stores.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { saveInboundReport } from '../../src/receiving/persist/inbound-store.js';
import { createRetentionComponent, purgeInboundReports } from '../../src/receiving/persist/retention.js';
import { configIssues } from '../../src/settings/config.js';
import { ServiceConfig } from '../../src/settings/config.js';
import { silentLog } from '../../src/common/log.js';

const FIX = path.resolve('test/fixtures/reports');
const DAY = 86400;
const T0 = 1_790_000_000;

async function seed(store: TestStore) {
  const files = ['parsedmarc__mail.ru.json', 'dmarc-report-viewer__rfc-example.json', 'dmarc-report-viewer__google.json'];
  for (const [n, f] of files.entries()) {
    const raw = readFileSync(path.join(FIX, f));
    const { report, findings } = parseReport(raw);
    // received 0, 100 and 200 days after T0
    await saveInboundReport(store, { raw, report, findings, channel: 'file', receivedAt: T0 + n * 100 * DAY });
  }
}

const count = async (store: TestStore, table: 'inbound_report' | 'inbound_policy' | 'inbound_failure' | 'inbound_finding') =>
  Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

test('retention config: default 400 days, configurable, validated', () => {
  assert.equal(ServiceConfig.parse({}).retention.inboundDays, 400);
  assert.equal(ServiceConfig.parse({ retention: { inboundDays: 30 } }).retention.inboundDays, 30);
  assert.deepEqual(configIssues({ retention: { inboundDays: 0 } }).map((i) => i.field), ['retention.inboundDays']);
  assert.equal(ServiceConfig.parse({}).retention.purgeIntervalSeconds, DAY);
});

forEachStore('inbound retention', (open) => {
  test('purges reports received more than N days ago, with their rows; keeps the rest', async () => {
    const store = await open();
    await seed(store);
    assert.equal(await purgeInboundReports(store, { days: 400, now: T0 + 400 * DAY }), 0);
    assert.equal(await purgeInboundReports(store, { days: 400, now: T0 + 400 * DAY + 1 }), 1);
    assert.equal(await count(store, 'inbound_report'), 2);
    assert.equal(await purgeInboundReports(store, { days: 50, now: T0 + 300 * DAY, batch: 1 }), 2);
    for (const t of ['inbound_report', 'inbound_policy', 'inbound_failure', 'inbound_finding'] as const) assert.equal(await count(store, t), 0, t);
  });

  test('the component purges at start and on every tick of its clock, and stops cleanly', async () => {
    const store = await open();
    await seed(store);
    let now = T0;
    let tick: (() => void) | undefined;
    let cleared = false;
    const c = createRetentionComponent({
      store, log: silentLog, options: { inboundDays: 150, purgeIntervalSeconds: DAY }, now: () => now,
      setInterval: (fn, ms) => { assert.equal(ms, DAY * 1000); tick = fn; return 1; },
      clearInterval: () => { cleared = true; },
    });
    await c.start();
    await c.runOnce();
    assert.equal(await count(store, 'inbound_report'), 3);
    now = T0 + 260 * DAY; // the first two are now older than 150 days
    tick!();
    await c.runOnce();
    assert.equal(await count(store, 'inbound_report'), 1);
    await c.stop();
    assert.ok(cleared);
  });
});

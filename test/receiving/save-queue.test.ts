/**
 * Group commit of inbound reports: concurrent saves share one transaction with a savepoint each;
 * results equal single saves (duplicates inside one batch found), a failing report fails alone.
 * Both stores.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { parseReport } from '../../src/rfc8460/parse.js';
import { saveInboundReport, type InboundReportInput } from '../../src/receiving/persist/inbound-store.js';
import { createSaveQueue } from '../../src/receiving/persist/save-queue.js';
import { makeReport } from './support/reports.js';

const input = (i: number, reportId = `batch-${i}`): InboundReportInput => {
  const json = Buffer.from(makeReport({ submitter: 'sender.example', policyDomain: 'example.org', successful: 100 + i, reportId }));
  const { report, findings } = parseReport(json);
  return { raw: json, report, findings, channel: 'file', receivedAt: 1_764_000_000 };
};

forEachStore('save queue', (open) => {
  it('stores a burst in batches with the same results as single saves; one failure stays alone', async () => {
    const store = await open();
    let calls = 0;
    const queue = createSaveQueue(store, {
      maxBatch: 20,
      save: async (s, x) => {
        calls++;
        if (x.report.reportId === 'batch-poison') {
          await saveInboundReport(s, x); // its rows are written, then rolled back with its savepoint
          throw new Error('poisoned');
        }
        return saveInboundReport(s, x);
      },
    });
    const inputs = [...Array.from({ length: 45 }, (_, i) => input(i)), input(3), input(99, 'batch-poison'), input(7)];
    const results = await Promise.allSettled(inputs.map((x) => queue.save(x)));
    assert.equal(calls, inputs.length);
    const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : `error:${(r.reason as Error).message}`));
    assert.deepEqual(statuses.slice(0, 45), Array(45).fill('stored'));
    assert.deepEqual(statuses.slice(45), ['duplicate', 'error:poisoned', 'duplicate']);
    const ids = results.map((r) => (r.status === 'fulfilled' ? r.value.id : undefined));
    assert.equal(ids[45], ids[3]);
    assert.equal(ids[47], ids[7]);
    const n = await store.db.selectFrom('inbound_report').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 45, 'the poisoned report was rolled back');
    const orphans = await store.db.selectFrom('inbound_policy').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(orphans.n), 45);
    // A single save later goes through on its own.
    assert.equal((await queue.save(input(200))).status, 'stored');
  });
});

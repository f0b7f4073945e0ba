/** @module test/sending/aggregate — fingerprints, UTC windows, and in-memory aggregation flushed to both stores. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { forEachStore, reopen } from '../support/stores.js';
import { Aggregator } from '../../src/sending/collect/aggregate.js';
import { writeTransaction } from '../../src/store/transaction.js';
import { policyFingerprint, failureDetailKey } from '../../src/sending/collect/fingerprint.js';
import { normalizeDomain } from '../../src/common/domain.js';
import { windowBounds } from '../../src/sending/windows/bounds.js';
import { listOpenWindows, readWindow } from '../../src/analysis/outbound-windows.js';
import { countOpenWindows } from '../../src/sending/windows/store.js';
import type { TlsSessionOutcome } from '../../src/sending/collect/event.js';
import type { Policy } from '../../src/rfc8460/types.js';

const at = (iso: string) => Date.parse(iso) / 1000;
const iso = (s: number) => new Date(s * 1000).toISOString();

/** The two real libtlsrpt datagrams of docs/spec/libtlsrpt-datagram.md as outcomes. */
export const REAL1: TlsSessionOutcome = {
  recipientDomain: 'example.net',
  tlsrptRecord: 'v=TLSRPTv1; rua=mailto:tlsrpt@example.net',
  policies: [{ policy: { policyType: 'tlsa', policyDomain: 'example.net', policyString: ['3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'], mxHost: [] }, failed: false, failureDetails: [] }],
};
export const REAL2: TlsSessionOutcome = {
  recipientDomain: 'example.org',
  tlsrptRecord: 'v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1',
  policies: [{
    policy: { policyType: 'sts', policyDomain: 'example.org', policyString: ['version: STSv1', 'mode: enforce', 'mx: *.mx.example.org', 'max_age: 604800'], mxHost: ['*.mx.example.org'] },
    failed: true,
    failureDetails: [{ resultType: 'certificate-expired', sendingMtaIp: '192.0.2.10', receivingMxHostname: 'mx1.mx.example.org', receivingMxHelo: 'mx1.mx.example.org', receivingIp: '198.51.100.25', additionalInformation: 'cert "expired"\tline2\n', failureReasonCode: 'x509: certificate has expired' }],
  }],
};

describe('fingerprint', () => {
  const sts: Policy = { policyType: 'sts', policyDomain: 'Example.ORG.', policyString: ['version: STSv1', 'mode: enforce', 'mx: a.example.org', 'mx: b.example.org', 'max_age: 86400'], mxHost: ['a.example.org', 'b.example.org'] };
  test('is independent of the order of STS policy lines and mx-host patterns, and of domain case', () => {
    const shuffled: Policy = { mxHost: ['B.example.org', 'a.example.org'], policyString: ['max_age: 86400', 'mx: b.example.org', 'mode: enforce', 'version: STSv1', 'mx: a.example.org'], policyDomain: 'example.org', policyType: 'sts' };
    assert.equal(policyFingerprint(sts, 'v=TLSRPTv1; rua=mailto:a@example.org'), policyFingerprint(shuffled, 'v=TLSRPTv1; rua=mailto:a@example.org'));
  });
  test('TLSA records form a set; hex case does not matter', () => {
    const a: Policy = { policyType: 'tlsa', policyDomain: 'mx.example.net', policyString: ['3 1 1 ABCDEF', '2 1 1 0102'], mxHost: [] };
    const b: Policy = { ...a, policyString: ['2 1 1 0102', '3 1 1 abcdef'] };
    assert.equal(policyFingerprint(a), policyFingerprint(b));
  });
  test('differs for different content, type, record, and for reordered strings of an unknown type', () => {
    const base = policyFingerprint(sts);
    assert.notEqual(base, policyFingerprint({ ...sts, policyString: [...sts.policyString, 'mx: c.example.org'] }));
    assert.notEqual(base, policyFingerprint({ ...sts, policyType: 'tlsa' }));
    assert.notEqual(base, policyFingerprint(sts, 'v=TLSRPTv1; rua=mailto:x@example.org'));
    const odd: Policy = { policyType: 'x-future', policyDomain: 'd.test', policyString: ['a', 'b'], mxHost: [] };
    assert.notEqual(policyFingerprint(odd), policyFingerprint({ ...odd, policyString: ['b', 'a'] }));
  });
  test('failure details are identical only when every field is', () => {
    const d = REAL2.policies[0].failureDetails[0];
    assert.equal(failureDetailKey(d), failureDetailKey({ ...d }));
    assert.equal(failureDetailKey(d), failureDetailKey(Object.fromEntries(Object.entries(d).reverse()) as typeof d));
    assert.notEqual(failureDetailKey(d), failureDetailKey({ ...d, receivingIp: '198.51.100.26' }));
  });
  test('normalizeDomain lower-cases and strips one trailing dot', () => {
    assert.equal(normalizeDomain('EXAMPLE.ORG.'), 'example.org');
    assert.equal(normalizeDomain('example.org..'), 'example.org.');
  });
});

describe('windowBounds (UTC)', () => {
  test('hourly is the clock hour', () => {
    assert.deepEqual(windowBounds('hourly', at('2026-11-28T17:59:59Z')), { start: at('2026-11-28T17:00:00Z'), end: at('2026-11-28T18:00:00Z') });
    assert.deepEqual(windowBounds('hourly', at('2026-11-28T18:00:00Z')).start, at('2026-11-28T18:00:00Z'));
  });
  test('daily is 00:00Z to the next 00:00Z', () => {
    assert.deepEqual(windowBounds('daily', at('2026-11-28T23:59:59Z')), { start: at('2026-11-28T00:00:00Z'), end: at('2026-11-29T00:00:00Z') });
    assert.deepEqual(windowBounds('never', at('2026-11-28T12:00:00Z')), windowBounds('daily', at('2026-11-28T12:00:00Z')));
  });
  test('weekly starts on Monday 00:00Z', () => {
    // 2026-11-23 is a Monday, 2026-11-29 a Sunday.
    for (const t of ['2026-11-23T00:00:00Z', '2026-11-26T12:34:56Z', '2026-11-29T23:59:59Z']) {
      const b = windowBounds('weekly', at(t));
      assert.equal(iso(b.start), '2026-11-23T00:00:00.000Z', t);
      assert.equal(iso(b.end), '2026-11-30T00:00:00.000Z', t);
    }
    assert.equal(iso(windowBounds('weekly', at('2026-11-22T23:59:59Z')).start), '2026-11-16T00:00:00.000Z');
    assert.equal(iso(windowBounds('weekly', at('1970-01-01T00:00:00Z')).start), '1969-12-29T00:00:00.000Z');
    assert.equal(new Date(windowBounds('weekly', at('2030-02-14T08:00:00Z')).start * 1000).getUTCDay(), 1);
  });
});

forEachStore('aggregation', (open) => {
  test('the two real datagrams produce exactly the expected counters', async () => {
    const store = await open();
    let now = Date.parse('2026-11-28T17:10:00Z');
    const agg = new Aggregator({ store, sendFrequency: () => 'daily', clock: () => now });
    assert.equal(agg.add(REAL1), undefined);
    assert.equal(agg.add(REAL2), undefined);
    now += 60_000;
    assert.equal(agg.add(REAL2), undefined);
    const r = await agg.flush();
    assert.equal(r.events, 3);
    assert.equal(agg.pendingEvents, 0);
    const windows = await listOpenWindows(store);
    assert.deepEqual(windows.map((w) => [w.reportDomain, iso(w.windowStart), iso(w.windowEnd), w.frequency]), [
      ['example.net', '2026-11-28T00:00:00.000Z', '2026-11-29T00:00:00.000Z', 'daily'],
      ['example.org', '2026-11-28T00:00:00.000Z', '2026-11-29T00:00:00.000Z', 'daily'],
    ]);
    const [net, org] = windows;
    assert.equal(net.policies.length, 1);
    assert.deepEqual([net.policies[0].successful, net.policies[0].failed, net.policies[0].failureDetails], [1, 0, []]);
    assert.equal(net.policies[0].tlsrptRecord, 'v=TLSRPTv1; rua=mailto:tlsrpt@example.net');
    assert.deepEqual(net.policies[0].policy, REAL1.policies[0].policy);
    assert.equal(org.policies.length, 1);
    assert.deepEqual([org.policies[0].successful, org.policies[0].failed], [0, 2]);
    assert.deepEqual(org.policies[0].failureDetails, [{ ...REAL2.policies[0].failureDetails[0], failedSessionCount: 2 }]);
    assert.equal(await countOpenWindows(store), 2);
  });

  test('the same policy with shuffled arrays and domain case counts as one row; memory holds keys, not events', async () => {
    const store = await open();
    const agg = new Aggregator({ store, sendFrequency: () => 'hourly', clock: () => Date.parse('2026-11-28T05:30:00Z') });
    const p = REAL2.policies[0];
    for (let i = 0; i < 1000; i++) {
      const shuffled: TlsSessionOutcome = {
        recipientDomain: i % 2 ? 'EXAMPLE.ORG.' : 'example.org',
        tlsrptRecord: REAL2.tlsrptRecord,
        policies: [{ ...p, policy: { ...p.policy, policyDomain: i % 3 ? 'Example.Org' : 'example.org', policyString: i % 2 ? [...p.policy.policyString].reverse() : p.policy.policyString }, failed: i % 4 === 0, failureDetails: i % 4 === 0 ? p.failureDetails : [] }],
      };
      agg.add(shuffled);
    }
    assert.ok(agg.pendingKeys <= 4, `pending keys ${agg.pendingKeys}`);
    await agg.flush();
    const [w] = await listOpenWindows(store, { reportDomain: 'EXAMPLE.org.' });
    assert.equal(w.frequency, 'hourly');
    assert.equal(iso(w.windowStart), '2026-11-28T05:00:00.000Z');
    assert.equal(w.policies.length, 1);
    assert.deepEqual([w.policies[0].successful, w.policies[0].failed, w.policies[0].failureDetails[0].failedSessionCount], [750, 250, 250]);
  });

  test('drops report deliveries, empty outcomes and invalid domains, and counts nothing of them', async () => {
    const store = await open();
    const agg = new Aggregator({ store, sendFrequency: () => 'daily' });
    assert.equal(agg.add({ ...REAL2, isReportDelivery: true }), 'report-delivery');
    assert.equal(agg.add({ ...REAL2, policies: [] }), 'no-policies');
    assert.equal(agg.add({ ...REAL2, recipientDomain: 'a b' }), 'invalid-domain');
    assert.equal(agg.add({ ...REAL2, recipientDomain: 'x'.repeat(300) }), 'invalid-domain');
    assert.equal(agg.add({ ...REAL2, policies: [REAL2.policies[0], { ...REAL2.policies[0], policy: { ...REAL2.policies[0].policy, policyDomain: 'bad\u0000.org' } }] }), 'invalid-domain');
    assert.equal(agg.pendingEvents, 0);
    await agg.flush();
    assert.equal(await countOpenWindows(store), 0);
  });

  test('windows survive a restart and keep counting; a closed window is never counted into', async () => {
    const store = await open();
    let now = Date.parse('2026-11-28T10:00:00Z');
    const a = new Aggregator({ store, sendFrequency: () => 'daily', clock: () => now });
    a.add(REAL2);
    await a.flush();
    const second = await reopen(store);
    try {
      const b = new Aggregator({ store: second, sendFrequency: () => 'hourly', clock: () => now });
      b.add(REAL2);
      await b.flush();
      let windows = await listOpenWindows(second);
      assert.equal(windows.length, 1, 'the existing daily window decides, not the new frequency');
      assert.equal(windows[0].policies[0].failed, 2);
      // The delivery closer closes it (as `outbound send --now` would, mid-window).
      await writeTransaction(second, async (db) => {
        let q = db.selectFrom('outbound_window').select('id').where('id', '=', windows[0].id);
        if (second.kind === 'postgres') q = q.forUpdate();
        await q.execute();
        await db.updateTable('outbound_window').set({ state: 'closed', closed_at: Math.floor(now / 1000) }).where('id', '=', windows[0].id).execute();
      });
      now += 3_600_000;
      b.add(REAL2);
      await b.flush();
      windows = await listOpenWindows(second);
      assert.equal(windows.length, 1);
      assert.equal(windows[0].frequency, 'hourly');
      assert.equal(iso(windows[0].windowStart), '2026-11-28T11:00:00.000Z');
      assert.equal(windows[0].policies[0].failed, 1);
      const closed = await readWindow(second, windows[0].id - 1);
      assert.equal(closed?.state, 'closed');
      assert.equal(closed?.policies[0].failed, 2);
    } finally {
      await second.close();
    }
  });

  test('events of two hours in one batch land in one daily row; an hour boundary splits hourly windows', async () => {
    const store = await open();
    let now = Date.parse('2026-11-28T10:59:59Z');
    const freq = new Map([['example.org', 'daily' as const], ['example.net', 'hourly' as const]]);
    const agg = new Aggregator({ store, sendFrequency: (d) => freq.get(d) ?? 'weekly', clock: () => now });
    agg.add(REAL2);
    agg.add(REAL1);
    now += 2000;
    agg.add(REAL2);
    agg.add(REAL1);
    await agg.flush();
    const windows = await listOpenWindows(store);
    assert.deepEqual(windows.map((w) => [w.reportDomain, iso(w.windowStart), w.policies[0].successful + w.policies[0].failed]), [
      ['example.net', '2026-11-28T10:00:00.000Z', 1],
      ['example.net', '2026-11-28T11:00:00.000Z', 1],
      ['example.org', '2026-11-28T00:00:00.000Z', 2],
    ]);
  });

  test('two collectors on one database converge on one window and add up', async () => {
    const store = await open();
    const second = await reopen(store);
    try {
      const now = () => Date.parse('2026-11-28T12:00:00Z');
      const a = new Aggregator({ store, sendFrequency: () => 'daily', clock: now });
      const b = new Aggregator({ store: second, sendFrequency: () => 'daily', clock: now });
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 200; i++) {
          a.add({ ...REAL2, recipientDomain: `d${i}.example`, policies: [{ ...REAL2.policies[0], policy: { ...REAL2.policies[0].policy, policyDomain: `d${i}.example` } }] });
          b.add({ ...REAL2, recipientDomain: `d${i}.example`, policies: [{ ...REAL2.policies[0], policy: { ...REAL2.policies[0].policy, policyDomain: `d${i}.example` } }] });
        }
        await Promise.all([a.flush(), b.flush()]);
      }
      const windows = await listOpenWindows(store);
      assert.equal(windows.length, 200);
      for (const w of windows) assert.deepEqual([w.policies.length, w.policies[0].failed, w.policies[0].failureDetails[0].failedSessionCount], [1, 10, 10]);
    } finally {
      await second.close();
    }
  });

  test('a closer running during flushes: every event is counted exactly once, none after the close', async () => {
    const store = await open();
    const closerStore = await reopen(store);
    try {
      const agg = new Aggregator({ store, sendFrequency: () => 'daily', clock: () => Date.parse('2026-11-28T12:00:00Z') });
      let added = 0;
      const closedTotals = new Map<number, number>();
      let stop = false;
      const closer = (async () => {
        while (!stop) {
          await writeTransaction(closerStore, async (db) => {
            let q = db.selectFrom('outbound_window').select('id').where('state', '=', 'open');
            if (closerStore.kind === 'postgres') q = q.forUpdate();
            for (const { id } of await q.execute()) {
              await db.updateTable('outbound_window').set({ state: 'closed', closed_at: 1 }).where('id', '=', id).execute();
              const w = await readWindow(db, Number(id));
              closedTotals.set(Number(id), w!.policies.reduce((n, p) => n + p.failed, 0));
            }
          });
          await new Promise((r) => setTimeout(r, 3));
        }
      })();
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 50; i++, added++) agg.add(REAL2);
        await agg.flush();
      }
      stop = true;
      await closer;
      const all = await (store.db).selectFrom('outbound_policy').select(['window_id', 'failed']).execute();
      const total = all.reduce((n, r) => n + Number(r.failed), 0);
      assert.equal(total, added);
      for (const r of all) {
        if (closedTotals.has(Number(r.window_id))) assert.equal(Number(r.failed), closedTotals.get(Number(r.window_id)), `window ${r.window_id} changed after it was closed`);
      }
      assert.ok(closedTotals.size >= 1);
    } finally {
      await closerStore.close();
    }
  });

  test('a failed write keeps the counts in memory and the next flush stores them', async () => {
    const store = await open();
    const agg = new Aggregator({ store, sendFrequency: () => 'daily' });
    agg.add(REAL2);
    // Break the write: the counters table is renamed away for one flush.
    await sql`alter table outbound_failure rename to outbound_failure_away`.execute(store.db);
    await assert.rejects(agg.flush());
    assert.equal(agg.pendingEvents, 1);
    agg.add(REAL2);
    const durable = agg.durable();
    await sql`alter table outbound_failure_away rename to outbound_failure`.execute(store.db);
    await agg.flush();
    await durable;
    const [w] = await listOpenWindows(store);
    assert.equal(w.policies[0].failed, 2);
    assert.equal(w.policies[0].failureDetails[0].failedSessionCount, 2);
  });
});

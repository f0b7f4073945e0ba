/**
 * @module test/cluster/fencing — the journal lease on both stores: a node whose heartbeat was only
 * late (not dead) cannot store the journal rows another node took over (its flush rolls back and
 * it rejoins under a new instance id), and a takeover racing a flush counts every acknowledged
 * batch exactly once; `cluster status` / `GET /api/v1/cluster` list the nodes with heartbeat,
 * claims and journal rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { forEachStore } from '../support/stores.js';
import { silentLog } from '../../src/common/log.js';
import { createCollector, type Collector } from '../../src/sending/collect/collector.js';
import { FencedError } from '../../src/sending/collect/journal.js';
import { clusterStatus } from '../../src/cluster/status.js';
import { clusterRoutes } from '../../src/http/routes/cluster.js';
import type { TlsSessionOutcome } from '../../src/sending/collect/event.js';
import type { Store } from '../../src/store/index.js';

const outcome = (domain: string): TlsSessionOutcome => ({
  recipientDomain: domain,
  policies: [{ policy: { policyType: 'no-policy-found', policyDomain: domain, policyString: [], mxHost: [] }, failed: false, failureDetails: [] }],
});
const batch = (n: number, domain = 'fence.example') => Array.from({ length: n }, () => outcome(domain));

async function sessions(store: Store): Promise<number> {
  const r = await sql<{ n: number | null }>`select cast(sum(successful + failed) as bigint) as n from outbound_policy`.execute(store.db);
  return Number(r.rows[0]?.n ?? 0);
}
const journalRows = async (store: Store) => Number((await store.db.selectFrom('outbound_journal').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
/** The lease of every instance whose id starts with `prefix` looks 10 minutes late. */
const makeLate = (store: Store, prefix: string) =>
  store.db.updateTable('outbound_collector').set({ heartbeat_at: Math.floor(Date.now() / 1000) - 600 }).where('instance_id', 'like', `${prefix}%`).execute();
const instances = async (store: Store) => (await store.db.selectFrom('outbound_collector').select('instance_id').orderBy('instance_id').execute()).map((r) => r.instance_id);

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting until ${what}`);
}

const collector = (store: Store, instanceId: string, nodeName = instanceId) =>
  createCollector({ store, flushMs: 3_600_000, log: silentLog, instanceId, nodeName });

forEachStore('journal fencing', (open) => {
  test('a node whose heartbeat was late cannot store the rows another node took over; it rejoins and counts on', async () => {
    const store = await open();
    const a = collector(store, 'node-a');
    await a.start();
    await a.recordDurable(batch(3));
    await a.recordDurable(batch(4));
    assert.equal(await journalRows(store), 2);
    // a stalls (its heartbeat is late), b starts and takes its journal over.
    await makeLate(store, 'node-a');
    const b = collector(store, 'node-b');
    await b.start();
    assert.equal(await sessions(store), 7, 'b replayed a\'s two batches');
    assert.equal(await journalRows(store), 0);
    // a wakes up with the same 7 events in memory: its flush must not store them again.
    await assert.rejects(a.flush(), FencedError);
    assert.equal(await sessions(store), 7, 'the fenced flush stored nothing');
    await until('a rejoined under a new instance id', async () => (await instances(store)).includes('node-a~1'));
    assert.deepEqual(await instances(store), ['node-a~1', 'node-b']);
    // Back in the cluster, a counts new batches normally.
    await a.recordDurable(batch(5));
    await a.flush();
    assert.equal(await sessions(store), 12);
    await a.stop();
    await b.stop();
    assert.equal(await sessions(store), 12, 'stopping adds nothing twice');
    assert.equal(await journalRows(store), 0);
  });

  test('a batch acknowledged while the lease was being taken over is counted once', async () => {
    const store = await open();
    const a = collector(store, 'race-a');
    await a.start();
    let acked = 0;
    const others: Collector[] = [];
    for (let i = 0; i < 12; i++) {
      await a.recordDurable(batch(2));
      acked += 2;
      await makeLate(store, 'race-a');
      // A new node's start takes the late lease over while a flushes: whichever commits first wins.
      const c = collector(store, `race-c${i}`);
      others.push(c);
      await Promise.all([a.flush().catch((e) => assert.ok(e instanceof FencedError, String(e))), c.start()]);
      // Some batches arrive right after: fenced or not, each is stored once.
      await a.recordDurable(batch(1));
      acked += 1;
      // The next flush (or heartbeat) finds a lease lost to c; a rejoins.
      await a.flush().catch((e) => assert.ok(e instanceof FencedError, String(e)));
      await until('a holds a lease again', async () => (await instances(store)).some((id) => id.startsWith('race-a')));
    }
    await a.stop();
    for (const c of others) await c.stop();
    // Rows a wrote under a lease it had lost are replayed by the next takeover.
    const last = collector(store, 'race-last');
    await last.start();
    await last.stop();
    assert.equal(await journalRows(store), 0);
    assert.equal(await sessions(store), acked);
  });

  test('cluster status lists each node with heartbeat, claims and journal rows', async () => {
    const store = await open();
    const a = collector(store, 'host-a:1:aa', 'node-a.example');
    const b = collector(store, 'host-b:2:bb', 'node-b.example');
    await a.start();
    await b.start();
    await a.recordDurable(batch(2));
    const now = Math.floor(Date.now() / 1000);
    // a holds one report it is building, b one target it is sending to.
    await store.db.insertInto('outbound_window').values({ report_domain: 'c.example', window_start: 0, window_end: 86400, frequency: 'daily', state: 'closed', created_at: now }).execute();
    const w = await store.db.selectFrom('outbound_window').select('id').executeTakeFirstOrThrow();
    await store.db.insertInto('outbound_report').values({ window_id: Number(w.id), report_domain: 'c.example', window_start: 0, window_end: 86400, state: 'building', due_at: now, created_at: now, claimed_by: 'host-a:1:aa', claimed_until: now + 600 }).execute();
    await store.db.insertInto('outbound_window').values({ report_domain: 'd.example', window_start: 0, window_end: 86400, frequency: 'daily', state: 'closed', created_at: now }).execute();
    const w2 = await store.db.selectFrom('outbound_window').select('id').where('report_domain', '=', 'd.example').executeTakeFirstOrThrow();
    const r = await store.db.insertInto('outbound_report').values({ window_id: Number(w2.id), report_domain: 'd.example', window_start: 0, window_end: 86400, state: 'pending', due_at: now, created_at: now }).returning('id').executeTakeFirstOrThrow();
    await store.db.insertInto('outbound_target').values({ outbound_report_id: Number(r.id), uri: 'mailto:t@d.example', scheme: 'mailto', state: 'pending', next_attempt_at: now, claimed_by: 'host-b:2:bb', claimed_until: now + 600 }).execute();

    const s = await clusterStatus(store, now);
    const byName = Object.fromEntries(s.nodes.map((n) => [n.node, n]));
    assert.deepEqual(Object.keys(byName).sort(), ['node-a.example', 'node-b.example']);
    assert.equal(byName['node-a.example'].state, 'alive');
    assert.deepEqual(byName['node-a.example'].claims, { reportsBuilding: 1, targetsSending: 0 });
    assert.deepEqual(byName['node-b.example'].claims, { reportsBuilding: 0, targetsSending: 1 });
    assert.equal(byName['node-a.example'].journal.rows, 1);
    assert.equal(byName['node-b.example'].journal.rows, 0);

    const res = await clusterRoutes({ store, clock: () => now + 120 }).request('/api/v1/cluster');
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { nodes: { node: string; state: string; 'last-heartbeat': string; claims: Record<string, number>; journal: { rows: number } }[] };
    assert.deepEqual(doc.nodes.map((n) => [n.node, n.state, n.journal.rows]), [['node-a.example', 'stale', 1], ['node-b.example', 'stale', 0]],
      'two minutes without a heartbeat: stale');
    assert.match(doc.nodes[0]['last-heartbeat'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // b's target claim is released when b's process is known dead; a's building claim when its lease is taken over.
    await a.stop();
    await b.stop();
  });
});

/**
 * @module test/sending/delivery/queue — retries and exactly-once against real peers: an HTTPS
 * receiver answering 500 then 200, a relay that is down for a while, permanent refusals, the
 * 24-hour retry limit, and claims surviving a restart; the mail that arrives carries a DKIM
 * signature a receiver verifies. On SQLite and PostgreSQL.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../../support/stores.js';
import { startHarness, stsOutcome, D0, DAY, type Harness } from './harness.js';
import { assertDkimPass } from './dkim-verify.js';

const targets = async (h: Harness) =>
  (await h.store.db.selectFrom('outbound_target').selectAll().orderBy('uri').execute()).map((t) => ({ ...t, attempts: Number(t.attempts), next_attempt_at: Number(t.next_attempt_at) }));

async function oneReport(h: Harness, record: string, domain = 'example.net') {
  for (let i = 0; i < 8; i++) h.aggregator.add(stsOutcome(domain, i % 4 === 0, record));
  await h.aggregator.flush();
  h.now.t = D0 + DAY;
}

forEachStore('delivery queue', (open) => {
  it('nextDueAt: the least of max(next attempt, report due) over active targets of pending reports (random rows)', async () => {
    const store = await open();
    const h = await startHarness(store);
    try {
      let seed = 7;
      const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
      for (let round = 0; round < 40; round++) {
        await store.db.deleteFrom('outbound_target').execute();
        await store.db.deleteFrom('outbound_report').execute();
        const now = h.now.t;
        const rows: { state: string; due: number; targets: { state: string; next: number }[] }[] = [];
        for (let i = 0; i < 1 + rand(6); i++) {
          rows.push({
            state: ['pending', 'pending', 'done', 'building'][rand(4)]!, due: now - 500 + rand(1000),
            targets: Array.from({ length: rand(3) }, () => ({ state: ['pending', 'retrying', 'sent', 'failed'][rand(4)]!, next: now - 500 + rand(1000) })),
          });
        }
        for (const [i, r] of rows.entries()) {
          const { id } = await store.db.insertInto('outbound_report').values({ window_id: 10_000 + round * 10 + i, report_domain: `r${i}.example`, window_start: now - DAY, window_end: now, state: r.state as 'pending', due_at: r.due, created_at: now }).returning('id').executeTakeFirstOrThrow();
          for (const [k, t] of r.targets.entries()) await store.db.insertInto('outbound_target').values({ outbound_report_id: Number(id), uri: `mailto:t${k}@r${i}.example`, scheme: 'mailto', state: t.state as 'pending', next_attempt_at: t.next }).execute();
        }
        const due = rows.filter((r) => r.state === 'pending').flatMap((r) => r.targets.filter((t) => t.state === 'pending' || t.state === 'retrying').map((t) => Math.max(t.next, r.due)));
        const expected = due.length ? Math.min(...due) : undefined;
        const got = await h.queue.nextDueAt();
        if (expected === undefined || expected > now) assert.equal(got, expected, `round ${round}: ${JSON.stringify(rows)}`);
        // Already due: any time up to now will do (the scheduler then sleeps its shortest).
        else assert.ok(got !== undefined && got <= now, `round ${round}: ${got} for ${expected} <= ${now}: ${JSON.stringify(rows)}`);
      }
    } finally {
      await h.close();
    }
  });

  it('HTTPS receiver answers 500, then 200: retried with backoff, the report arrives once', async () => {
    const store = await open();
    const h = await startHarness(store, { httpsStatuses: [500, 200] });
    try {
      await oneReport(h, `v=TLSRPTv1; rua=${h.https.url('/tlsrpt', 'localhost')}`);
      let r = await h.scheduler.tick();
      assert.equal(r.attempts.length, 1);
      assert.equal(r.attempts[0].state, 'retrying');
      assert.match(r.attempts[0].detail, /HTTP 500/);
      const next = r.attempts[0].nextAttemptAt!;
      assert.equal(next, h.now.t + 60, 'first retry after 60 s (random 0.5 = no jitter)');

      h.now.t = next - 1;
      r = await h.scheduler.tick();
      assert.equal(r.attempts.length, 0, 'not before its time');
      h.now.t = next;
      r = await h.scheduler.tick();
      assert.equal(r.attempts[0].state, 'sent');
      assert.equal(h.https.received.length, 2, 'a 500 and one accepted POST');
      assert.deepEqual(h.https.received.map((p) => p.status), [500, 200]);

      h.now.t += 3 * DAY;
      await h.scheduler.tick({ force: true });
      assert.equal(h.https.received.length, 2, 'never again after it was accepted');
      const [t] = await targets(h);
      assert.equal(t.state, 'sent');
      assert.equal(t.attempts, 2);
      const rep = await store.db.selectFrom('outbound_report').select('state').executeTakeFirstOrThrow();
      assert.equal(rep.state, 'done');
    } finally {
      await h.close();
    }
  });

  it('a forced run with the relay down tries each target once and ends (more targets than one claim)', async () => {
    const store = await open();
    const h = await startHarness(store);
    try {
      await h.sink.stop();
      for (const d of ['a.example', 'b.example', 'c.example', 'd.example', 'e.example']) {
        for (let i = 0; i < 3; i++) h.aggregator.add(stsOutcome(d, false, `v=TLSRPTv1; rua=mailto:tls@${d}`));
      }
      await h.aggregator.flush();
      h.now.t = D0 + DAY;
      await h.scheduler.closeDueWindows();
      await h.scheduler.buildClaimedReports();
      // limit 2: three claims; before the fix each retried target was claimed again at once, for ever
      const attempts = await Promise.race([
        h.queue.runDue({ force: true, limit: 2 }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('runDue did not end')), 20_000)),
      ]);
      assert.equal(attempts.length, 5);
      assert.deepEqual(attempts.map((a) => a.state), Array(5).fill('retrying'));
      assert.deepEqual((await targets(h)).map((t) => t.attempts), [1, 1, 1, 1, 1]);
    } finally {
      await h.close();
    }
  });

  it('a relay that is down for a while, then up: the mail arrives once', async () => {
    const store = await open();
    const h = await startHarness(store);
    try {
      await h.sink.stop();
      await oneReport(h, 'v=TLSRPTv1; rua=mailto:tls@example.net');
      let r = await h.scheduler.tick();
      assert.equal(r.attempts[0].state, 'retrying');
      for (let i = 0; i < 3; i++) {
        h.now.t = r.attempts[0]?.nextAttemptAt ?? h.now.t + 3600;
        r = await h.scheduler.tick();
        assert.equal(r.attempts[0].state, 'retrying', `attempt ${i + 2}`);
      }
      await h.sink.start();
      h.now.t = r.attempts[0].nextAttemptAt!;
      r = await h.scheduler.tick();
      assert.equal(r.attempts[0].state, 'sent');
      await h.scheduler.tick({ force: true });
      assert.equal(h.sink.received.length, 1);
      await assertDkimPass(h.sink.received[0].raw, h.dkim);
      assert.equal((await targets(h))[0].attempts, 5);
    } finally {
      await h.close();
    }
  });

  it('permanent refusals end a target; the other target still gets the report', async () => {
    const store = await open();
    const h = await startHarness(store, { httpsStatuses: [404] });
    try {
      h.sink.setRcptReply((a) => (a === 'gone@example.net' ? { code: 550, message: 'No such user' } : undefined));
      await oneReport(h, `v=TLSRPTv1; rua=mailto:gone@example.net,mailto:ok@example.net,${h.https.url('/x', 'localhost')}`);
      const r = await h.scheduler.tick();
      const by = Object.fromEntries(r.attempts.map((a) => [a.uri, a]));
      assert.equal(by['mailto:gone@example.net'].state, 'failed');
      assert.match(by['mailto:gone@example.net'].detail, /550/);
      assert.equal(by['mailto:ok@example.net'].state, 'sent');
      assert.equal(by[h.https.url('/x', 'localhost')].state, 'failed');
      h.now.t += DAY;
      assert.equal((await h.scheduler.tick({ force: true })).attempts.length, 0, 'failed targets are not retried');
      const rep = await store.db.selectFrom('outbound_report').select('state').executeTakeFirstOrThrow();
      assert.equal(rep.state, 'done', 'one target accepted it');
    } finally {
      await h.close();
    }
  });

  it('temporary failures are retried for 24 hours after the first attempt, then the target fails', async () => {
    const store = await open();
    const h = await startHarness(store, { httpsStatuses: [503] });
    try {
      await oneReport(h, `v=TLSRPTv1; rua=${h.https.url('/x', 'localhost')}`);
      const first = h.now.t;
      let r = await h.scheduler.tick();
      let n = 1;
      while (r.attempts[0]?.state === 'retrying') {
        h.now.t = r.attempts[0].nextAttemptAt!;
        r = await h.scheduler.tick();
        n++;
      }
      assert.equal(r.attempts[0].state, 'failed');
      assert.match(r.attempts[0].detail, /gave up after 24 h/);
      assert.equal(h.now.t, first + DAY, 'the last attempt is at the 24-hour mark');
      assert.equal(h.https.received.length, n);
      const rep = await store.db.selectFrom('outbound_report').select(['state', 'reason']).executeTakeFirstOrThrow();
      assert.equal(rep.state, 'failed');
    } finally {
      await h.close();
    }
  });

  it('a claim held by another process is respected; after a crash (lease over) another process takes it over', async () => {
    const store = await open();
    const h = await startHarness(store);
    try {
      await oneReport(h, 'v=TLSRPTv1; rua=mailto:tls@example.net');
      await h.scheduler.closeDueWindows();
      await h.scheduler.buildClaimedReports();
      // Another process claimed the target and died while sending.
      await store.db.updateTable('outbound_target').set({ claimed_by: 'dead-node', claimed_until: h.now.t + 600 }).execute();
      let r = await h.scheduler.tick({ force: true });
      assert.equal(r.attempts.length, 0, 'held by another process');
      h.now.t += 601;
      r = await h.scheduler.tick();
      assert.equal(r.attempts.length, 1);
      assert.equal(r.attempts[0].state, 'sent');
      assert.equal(h.sink.received.length, 1);
      await assertDkimPass(h.sink.received[0].raw, h.dkim);
    } finally {
      await h.close();
    }
  });

  it('one claim takes at most its limit of due targets, and never one already claimed', async () => {
    const store = await open();
    const h = await startHarness(store);
    try {
      for (let d = 0; d < 5; d++) {
        for (let i = 0; i < 4; i++) h.aggregator.add(stsOutcome(`d${d}.example.net`, i === 0, `v=TLSRPTv1; rua=mailto:tls@d${d}.example.net`));
      }
      await h.aggregator.flush();
      h.now.t = D0 + DAY;
      await h.scheduler.closeDueWindows();
      await h.scheduler.buildClaimedReports();
      // The claim statement itself (runDue loops over it): PostgreSQL once claimed every due row.
      const claim = (q: unknown) => (q as { claim(limit: number, force: boolean): Promise<number[]> }).claim(2, true);
      const other = h.node('other-node');
      const sizes = [await claim(h.queue), await claim(other.queue), await claim(h.queue), await claim(other.queue)];
      assert.deepEqual(sizes.map((x) => x.length), [2, 2, 1, 0]);
      assert.equal(new Set(sizes.flat()).size, 5, 'each target claimed once');
    } finally {
      await h.close();
    }
  });

  it('a report whose builder died is rebuilt by another process after the lease', async () => {
    const store = await open();
    const h = await startHarness(store);
    try {
      await oneReport(h, 'v=TLSRPTv1; rua=mailto:tls@example.net');
      const other = h.node('node-dead');
      await other.scheduler.closeDueWindows(); // closed and claimed by node-dead, never built
      let r = await h.scheduler.tick();
      assert.equal(r.built.length, 0);
      h.now.t += 601;
      r = await h.scheduler.tick();
      assert.equal(r.built.length, 1);
      assert.equal(r.attempts[0].state, 'sent');
    } finally {
      await h.close();
    }
  });
});

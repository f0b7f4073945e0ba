/**
 * @module test/sending/scheduler — windows close at their UTC end, reports are built and sent
 * after the spread, `never` looks nothing up, a service that was down catches up, no record
 * means no report, and several processes on one database send each report once. On SQLite and
 * PostgreSQL, with real DNS, SMTP and HTTPS peers on loopback.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { forEachStore, reopen } from '../support/stores.js';
import { startHarness, stsOutcome, D0, DAY } from './delivery/harness.js';
import { assertDkimPass } from './delivery/dkim-verify.js';
import { extractReports } from '../../src/receiving/extract/index.js';
import { parseReport } from '../../src/rfc8460/index.js';

const states = async (h: { store: { db: any } }) =>
  (await h.store.db.selectFrom('outbound_target').select(['uri', 'state', 'attempts']).orderBy('uri').execute()) as { uri: string; state: string; attempts: number }[];

forEachStore('scheduler', (open) => {
  it('closes a window at its UTC end, sends after the spread, and both targets get the report once', async () => {
    const store = await open();
    const h = await startHarness(store, { spreadSeconds: 3600, random: () => 0.5 });
    try {
      const rec = `v=TLSRPTv1; rua=mailto:tls-reports@example.net,${h.https.url('/tlsrpt', 'localhost')}`;
      for (let i = 0; i < 40; i++) h.aggregator.add(stsOutcome('example.net', i % 4 === 0, rec));
      await h.aggregator.flush();

      h.now.t = D0 + DAY - 1; // 23:59:59Z: still open
      let r = await h.scheduler.tick();
      assert.equal(r.closed, 0);

      h.now.t = D0 + DAY; // 00:00:00Z next day: closes, report built, due after the spread
      r = await h.scheduler.tick();
      assert.equal(r.closed, 1);
      assert.equal(r.built.length, 1);
      assert.equal(r.built[0].state, 'pending');
      assert.equal(r.attempts.length, 0, 'not due yet: spread 3600 s × 0.5');
      assert.equal(h.sink.received.length + h.https.received.length, 0);

      h.now.t = D0 + DAY + 1800;
      r = await h.scheduler.tick();
      assert.deepEqual(r.attempts.map((a) => a.state).sort(), ['sent', 'sent']);
      assert.equal(h.sink.received.length, 1);
      assert.equal(h.https.received.length, 1);

      const post = JSON.parse(gunzipSync(h.https.received[0].body).toString());
      assert.equal(post['date-range']['start-datetime'], '2026-11-27T00:00:00Z');
      assert.equal(post['date-range']['end-datetime'], '2026-11-27T23:59:59Z');
      assert.equal(post.policies[0].summary['total-successful-session-count'], 30);
      assert.equal(post.policies[0].summary['total-failure-session-count'], 10);
      await assertDkimPass(h.sink.received[0].raw, h.dkim);
      const { payloads } = await extractReports(h.sink.received[0].raw);
      assert.deepEqual(parseReport(payloads[0].bytes).report.reportId, post['report-id'], 'the mail and the POST carry the same report');

      h.now.t += 7200;
      r = await h.scheduler.tick({ force: true });
      assert.equal(r.attempts.length, 0, 'nothing is sent twice');
      const report = await store.db.selectFrom('outbound_report').selectAll().executeTakeFirstOrThrow();
      assert.equal(report.state, 'done');
    } finally {
      await h.close();
    }
  });

  it('wakes up at the next window end, due time or retry time', async () => {
    const store = await open();
    const h = await startHarness(store, { spreadSeconds: 600, random: () => 0.5, httpsStatuses: [500] });
    try {
      assert.equal(await h.scheduler.nextWakeIn(), 30, 'nothing to do: the longest sleep');
      h.aggregator.add(stsOutcome('wake.example', false, `v=TLSRPTv1; rua=${h.https.url('/x', 'localhost')}`));
      await h.aggregator.flush();
      h.now.t = D0 + DAY - 10;
      assert.equal(await h.scheduler.nextWakeIn(), 10, 'the window ends in 10 s');
      h.now.t = D0 + DAY;
      await h.scheduler.tick();
      assert.equal(await h.scheduler.nextWakeIn(), 30, 'due in 300 s: capped');
      h.now.t = D0 + DAY + 290;
      assert.equal(await h.scheduler.nextWakeIn(), 10, 'due in 10 s');
      h.now.t = D0 + DAY + 300;
      const r = await h.scheduler.tick();
      assert.equal(r.attempts[0].state, 'retrying');
      h.now.t += 50;
      assert.equal(await h.scheduler.nextWakeIn(), 10, 'the retry is 60 s after the attempt');
    } finally {
      await h.close();
    }
  });

  it('start() runs on its own until stop(): an overdue window is sent without anyone calling tick', async () => {
    const store = await open();
    const h = await startHarness(store);
    try {
      h.aggregator.add(stsOutcome('auto.example', false, 'v=TLSRPTv1; rua=mailto:r@auto.example'));
      await h.aggregator.flush();
      h.now.t = D0 + DAY + 5;
      h.scheduler.start();
      for (let i = 0; i < 100 && h.sink.received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      await h.scheduler.stop();
      assert.equal(h.sink.received.length, 1);
      assert.equal(h.log.find('scheduler tick failed').length, 0);
    } finally {
      await h.close();
    }
  });

  it('looks up _smtp._tls in DNS when the MTA sent no record, caching it by TTL; no record → dropped and counted', async () => {
    const store = await open();
    const h = await startHarness(store, {
      zone: { '_smtp._tls.example.org': { TXT: [['v=TLSRPTv1; rua=mailto:reports@example.org']], ttl: 3600 } },
    });
    try {
      h.aggregator.add(stsOutcome('example.org', false));
      h.aggregator.add(stsOutcome('no-record.example', true));
      await h.aggregator.flush();
      h.now.t = D0 + DAY;
      const r = await h.scheduler.tick();
      const byDomain = Object.fromEntries(r.built.map((b) => [b.reportDomain, b]));
      assert.equal(byDomain['example.org'].state, 'pending');
      assert.equal(byDomain['no-record.example'].state, 'dropped');
      assert.match(byDomain['no-record.example'].reason ?? '', /no TXT record/);
      assert.equal(h.log.find('window dropped: no usable TLSRPT record').length, 1);
      assert.equal(h.sink.received.length, 1);
      assert.deepEqual(h.sink.received[0].to, ['reports@example.org']);
      const queries = h.dns.queries.filter((q) => q.name === '_smtp._tls.example.org').length;
      assert.equal(queries, 1);
      // The next day's window: a day later the TTL of 3600 s has run out.
      h.aggregator.add(stsOutcome('example.org', false));
      h.now.t = D0 + DAY + 60;
      await h.aggregator.flush();
      h.now.t = D0 + 2 * DAY + 10;
      await h.scheduler.tick();
      assert.equal(h.dns.queries.filter((q) => q.name === '_smtp._tls.example.org').length, 2, 'TTL expired after a day: looked up again');
    } finally {
      await h.close();
    }
  });

  it('one batch ends built, dropped and deferred reports at once: each row written as it ended, the deferred one claimable again after the DNS retry time', async () => {
    const store = await open();
    const h = await startHarness(store, { zone: { '_smtp._tls.flaky.example': { servfail: true } } });
    try {
      h.aggregator.add(stsOutcome('built.example', false, 'v=TLSRPTv1; rua=mailto:r@built.example'));
      h.aggregator.add(stsOutcome('no-record.example', true));
      h.aggregator.add(stsOutcome('flaky.example', true));
      await h.aggregator.flush();
      h.now.t = D0 + DAY;
      await h.scheduler.closeDueWindows();
      const built = await h.scheduler.buildClaimedReports();
      assert.deepEqual(Object.fromEntries(built.map((b) => [b.reportDomain, b.state])),
        { 'built.example': 'pending', 'no-record.example': 'dropped', 'flaky.example': 'deferred' });
      const rows = Object.fromEntries((await store.db.selectFrom('outbound_report')
        .select(['report_domain', 'state', 'reason', 'record_source', 'built_at', 'claimed_by', 'claimed_until']).execute())
        .map((r) => [r.report_domain, { ...r, built_at: r.built_at === null ? null : Number(r.built_at), claimed_until: Number(r.claimed_until) }]));
      assert.deepEqual({ ...rows['no-record.example'], reason: undefined },
        { report_domain: 'no-record.example', state: 'dropped', reason: undefined, record_source: 'dns', built_at: h.now.t, claimed_by: null, claimed_until: 0 });
      assert.match(rows['no-record.example'].reason ?? '', /no TXT record/);
      assert.deepEqual({ ...rows['flaky.example'], reason: undefined },
        { report_domain: 'flaky.example', state: 'building', reason: undefined, record_source: null, built_at: null, claimed_by: null, claimed_until: h.now.t + 300 });
      assert.ok(rows['flaky.example'].reason, 'the lookup failure is kept as the reason');
      assert.equal(rows['built.example'].state, 'pending');
      // Not claimable again before its retry time; looked up again after it.
      h.now.t += 299;
      assert.deepEqual(await h.scheduler.buildClaimedReports(), []);
      h.now.t += 2;
      const again = await h.scheduler.buildClaimedReports();
      assert.deepEqual(again.map((b) => [b.reportDomain, b.state]), [['flaky.example', 'deferred']]);
      assert.equal(h.dns.queries.filter((q) => q.name === '_smtp._tls.flaky.example').length >= 2, true);
    } finally {
      await h.close();
    }
  });

  it('sendFrequency never: no DNS lookup, no report', async () => {
    const store = await open();
    const h = await startHarness(store, { settings: { frequency: () => 'never' } });
    try {
      h.aggregator.add(stsOutcome('quiet.example', true));
      await h.aggregator.flush();
      h.now.t = D0 + DAY;
      const r = await h.scheduler.tick();
      assert.equal(r.built[0].state, 'skipped');
      assert.equal(h.dns.queries.filter((q) => q.name.includes('quiet.example')).length, 0);
      assert.equal(h.sink.received.length, 0);
    } finally {
      await h.close();
    }
  });

  it('a service that was down sends the overdue windows when it comes back', async () => {
    const store = await open();
    const h = await startHarness(store, { spreadSeconds: 3600, random: () => 0.25 });
    try {
      const rec = 'v=TLSRPTv1; rua=mailto:r@late.example';
      h.aggregator.add(stsOutcome('late.example', false, rec));
      await h.aggregator.flush();
      h.now.t = D0 + DAY + 10;
      h.aggregator.add(stsOutcome('late.example', true, rec));
      await h.aggregator.flush();
      h.now.t = D0 + 3 * DAY + 5000; // down for two days
      await h.scheduler.tick();
      h.now.t += 3600;
      const r = await h.scheduler.tick();
      assert.equal(r.attempts.length, 2, 'both missed days are sent');
      assert.equal(h.sink.received.length, 2);
    } finally {
      await h.close();
    }
  });

  it('several processes on one database: each window closed, built and sent exactly once', async () => {
    const store = await open();
    const h = await startHarness(store, { spreadSeconds: 0 });
    // One after the other: opening runs the migration check under a write lock.
    const others = [await reopen(store as never), await reopen(store as never)];
    try {
      for (let d = 0; d < 30; d++) {
        const domain = `d${d}.example`;
        for (let i = 0; i < 3; i++) h.aggregator.add(stsOutcome(domain, i === 0, `v=TLSRPTv1; rua=mailto:r@${domain}`));
      }
      await h.aggregator.flush();
      h.now.t = D0 + DAY;
      const nodes = [h.node('node-b', others[0]), h.node('node-c', others[1]), { scheduler: h.scheduler }];
      const results = await Promise.all(nodes.map((n) => n.scheduler.tick()));
      assert.equal(results.reduce((n, r) => n + r.closed, 0), 30, 'each window closed once');
      assert.equal(results.reduce((n, r) => n + r.built.filter((b) => b.state === 'pending').length, 0), 30);
      // Whatever was not sent in the first round (a process that closed no window) goes in the next.
      await Promise.all(nodes.map((n) => n.scheduler.tick()));
      assert.equal(h.sink.received.length, 30, 'each report once');
      for (const m of h.sink.received) await assertDkimPass(m.raw, h.dkim);
      assert.equal(new Set(h.sink.received.map((m) => m.to[0])).size, 30);
      assert.ok((await states(h)).every((t) => t.state === 'sent' && t.attempts === 1));
    } finally {
      await h.close();
      for (const o of others) await o.close();
    }
  });
});

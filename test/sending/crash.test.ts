/**
 * @module test/sending/crash — durability of acknowledged events: a real `tlsrpt serve` child
 * ingests batches over HTTP from concurrent clients and is killed with SIGKILL mid-stream (a
 * one-minute flush interval: what was acknowledged is only in the journal, and is replayed).
 * After a restart every acknowledged batch is in the store, whole; an unacknowledged one is
 * there whole or not at all; and the windows keep counting after the restart. Both stores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forEachStore } from '../support/stores.js';
import { openStore } from '../../src/store/index.js';
import { listOpenWindows } from '../../src/analysis/outbound-windows.js';
import { callServe, freePort, startServe, waitUp } from '../support/serve-child.js';

const TOKEN = 'crash-token-0123456789';
const call = (port: number, method: string, p: string, body?: unknown) => callServe(port, TOKEN, method, p, body);
const BATCH = 50;

/** One batch: every event carries the batch's own failure-reason-code, so its count is findable. */
const batch = (id: string, domain: string) => ({
  events: Array.from({ length: BATCH }, () => ({
    'recipient-domain': domain,
    policies: [{ 'policy-type': 'no-policy-found', result: 'failure', 'failure-details': [{ 'result-type': 'starttls-not-supported', 'failure-reason-code': id }] }],
  })),
});

forEachStore('crash (SIGKILL mid-stream)', (open) => {
  test('every acknowledged event is in the store after a restart, and counting goes on', async () => {
    const store = await open();
    const storeConfig = store.config;
    await store.close();
    const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-crash-'));
    try {
      const port = await freePort();
      const cfg = path.join(dir, 'cfg.json');
      // A long flush interval: only the per-request durable write can store what is acknowledged.
      writeFileSync(cfg, JSON.stringify({ store: storeConfig, http: { listen: `127.0.0.1:${port}`, token: TOKEN }, collector: { flushMs: 60_000 }, SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' } }));
      let child = startServe(cfg, path.join(dir, 'serve1.log'));
      await waitUp(port, child, TOKEN);

      const acked = new Set<string>();
      const sent = new Set<string>();
      let killed = false;
      const clients = Array.from({ length: 4 }, async (_, c) => {
        for (let seq = 0; !killed; seq++) {
          const id = `c${c}-b${seq}`;
          sent.add(id);
          try {
            const r = await call(port, 'POST', '/api/v1/events', batch(id, `crash${c % 2}.example`));
            if (r.status === 200 && r.json.accepted === BATCH) acked.add(id);
            else assert.fail(`unexpected answer ${r.status} ${JSON.stringify(r.json)}`);
          } catch (e) {
            if (!killed) throw e;
          }
        }
      });
      while (acked.size < 40) await new Promise((r) => setTimeout(r, 5));
      killed = true;
      child.kill('SIGKILL');
      await Promise.all(clients);
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      assert.equal(child.signalCode, 'SIGKILL');

      child = startServe(cfg, path.join(dir, 'serve2.log'));
      try {
        await waitUp(port, child, TOKEN);
        const counts = async () => {
          const r = await call(port, 'GET', '/api/v1/outbound/windows');
          const byId = new Map<string, number>();
          const windowIds: number[] = [];
          for (const w of r.json.windows) {
            windowIds.push(w.id);
            for (const p of w.policies) for (const d of p['failure-details']) byId.set(d['failure-reason-code'], (byId.get(d['failure-reason-code']) ?? 0) + d['failed-session-count']);
          }
          return { byId, windowIds: windowIds.sort() };
        };
        const before = await counts();
        for (const id of acked) assert.equal(before.byId.get(id), BATCH, `acknowledged batch ${id} has ${before.byId.get(id) ?? 0} of ${BATCH} events after the crash`);
        for (const [id, n] of before.byId) {
          assert.ok(sent.has(id), `unknown batch ${id}`);
          assert.equal(n, BATCH, `batch ${id} stored partly (${n})`);
        }
        assert.ok(acked.size >= 40);
        // The windows survived and keep counting (an orderly stop flushes the new batch).
        const again = await call(port, 'POST', '/api/v1/events', batch(`c0-b${[...acked].length}-after`, 'crash0.example'));
        assert.equal(again.status, 200);
        child.kill('SIGTERM');
        await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
        const reopened = await openStore(storeConfig);
        try {
          const windows = await listOpenWindows(reopened);
          assert.deepEqual(windows.map((w) => w.id).sort(), before.windowIds);
          const codes = new Set(windows.flatMap((w) => w.policies.flatMap((p) => p.failureDetails.map((d) => d.failureReasonCode))));
          assert.equal(codes.size, before.byId.size + 1);
          assert.equal(Number((await reopened.db.selectFrom('outbound_journal').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n), 0, 'journal emptied');
        } finally {
          await reopened.close();
        }
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

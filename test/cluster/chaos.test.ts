/**
 * @module test/cluster/chaos — three real `tlsrpt serve` nodes on one PostgreSQL (the test's own
 * throwaway cluster, since it restarts it), on loopback: events over HTTP and datagrams to all
 * three; node A is killed -9 holding acknowledged events only in its journal, and restarted;
 * PostgreSQL is restarted while events keep coming (each node acknowledges again within
 * RECOVERY_BOUND_MS of it being back); the relay refuses and the HTTPS receiver answers 500 when
 * the windows close, then both accept. Per report domain and policy the reported counts equal
 * what the senders got acknowledged, each report reaches each target once, none is built twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import { startPostgres } from '../support/postgres.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { startHttpsServer } from '../support/https-server.js';
import { openStore, type Store } from '../../src/store/index.js';
import { trySendDatagram } from '../../src/sending/collect/sources/datagram-socket.js';
import { call, cli, freePort, restartPostgres, startNode, type ServeNode } from './nodes.js';

const TOKEN = 'chaos-token-0123456789';
const DOMAINS = 20;
const BATCH = 100;
/** After PostgreSQL is back, every node acknowledges HTTP events again within this bound. */
const RECOVERY_BOUND_MS = 20_000;
const POLICY_STRING = ['version: STSv1', 'mode: enforce', 'mx: mx.chaos.example', 'max_age: 86400'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const domain = (i: number) => `r${i}.chaos.example`;

test('three nodes on one PostgreSQL: kill -9, PostgreSQL restart, refusing relay and receiver — every acknowledged event reported once', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-chaos-'));
  const cluster = await startPostgres();
  const relay = await startSmtpSink();
  const receiver = await startHttpsServer({ statuses: [500] });
  relay.setRcptReply(() => ({ code: 451, message: 'try again later' }));
  const nodes = new Map<string, ServeNode>();
  let sending = true;
  let store: Store | undefined;
  try {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE chaos');
    await admin.end();
    const storeUrl = cluster.url.replace(/\/postgres$/, '/chaos');

    // Where each report domain's reports go: mailto, https, or both (every fourth).
    const targets = (i: number) => [
      ...(i % 2 === 0 ? [`mailto:tlsrpt@${domain(i)}`] : []),
      ...(i % 2 === 1 || i % 4 === 0 ? [receiver.url(`/r${i}`)] : []),
    ];
    const record = (i: number) => `v=TLSRPTv1; rua=${targets(i).join(',')}`;
    const expected = Array.from({ length: DOMAINS }, () => ({ successful: 0, failed: 0 }));
    const httpEvent = (j: number) => {
      const i = j % DOMAINS;
      const failed = j % 7 === 0;
      return {
        'recipient-domain': domain(i), 'tlsrpt-record': record(i),
        policies: [{
          'policy-type': 'sts', 'policy-string': POLICY_STRING, 'mx-host': ['mx.chaos.example'], result: failed ? 'failure' : 'success',
          ...(failed ? { 'failure-details': [{ 'result-type': 'certificate-expired', 'receiving-mx-hostname': 'mx.chaos.example' }] } : {}),
        }],
      };
    };
    const datagram = (j: number) => {
      const i = j % DOMAINS;
      const failed = j % 7 === 0;
      return Buffer.from(JSON.stringify({
        dpv: '1', d: domain(i), pr: record(i),
        policies: [{ 'policy-type': 2, 'policy-domain': domain(i), 'policy-string': POLICY_STRING, 'mx-host': ['mx.chaos.example'], t: failed ? 1 : 0, f: failed ? 1 : 0,
          ...(failed ? { 'failure-details': [{ c: 204, n: 'mx.chaos.example' }] } : {}) }],
      }));
    };
    const count = (j: number) => {
      const e = expected[j % DOMAINS];
      if (j % 7 === 0) e.failed++;
      else e.successful++;
    };
    let seq = 0;
    /** Posts one batch; its events count as sent only when the node answered 200. */
    const postBatch = async (node: ServeNode): Promise<boolean> => {
      const first = seq;
      seq += BATCH;
      const events = Array.from({ length: BATCH }, (_, k) => httpEvent(first + k));
      try {
        const r = await call(node.port, TOKEN, 'POST', '/api/v1/events', { events });
        if (r.status !== 200) return false;
        assert.equal(r.json.accepted, BATCH);
        for (let k = 0; k < BATCH; k++) count(first + k);
        return true;
      } catch {
        return false;
      }
    };
    /** Datagrams carry no acknowledgement: counted when the kernel took them (the node then holds them). */
    const sendDatagrams = async (socket: string, n: number) => {
      for (let k = 0; k < n && sending; k++) {
        const j = seq++;
        for (let tries = 0; !trySendDatagram(socket, datagram(j)); tries++) {
          if (tries > 2000) assert.fail(`datagram socket ${socket} stayed full`);
          await sleep(1);
        }
        count(j);
        if (k % 20 === 0) await sleep(1);
      }
    };

    const dkimFile = path.join(dir, 'dkim.pem');
    writeFileSync(dkimFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, receiver.ca);
    const configs = new Map<string, { file: string; port: number; socket: string }>();
    const writeConfig = async (name: string, flushMs: number, port?: number) => {
      const p = port ?? await freePort();
      const socket = path.join(dir, `${name}.sock`);
      const file = path.join(dir, `${name}-${flushMs}.json`);
      writeFileSync(file, JSON.stringify({
        store: { postgres: storeUrl },
        http: { listen: `127.0.0.1:${p}`, token: TOKEN },
        collector: { socket, flushMs },
        relay: { host: '127.0.0.1', port: relay.port, secure: false },
        dkim: [{ domain: 'chaos.example', selector: 'tlsrpt', privateKeyFile: dkimFile }],
        delivery: { spreadSeconds: 0, allowPrivateTargets: true, extraCaFile: caFile },
        SystemSettings: { domain: 'chaos.example', hostname: `node-${name}.chaos.example` },
        TlsReportSettings: { contactInfo: { else: "'tls@chaos.example'" } },
      }));
      configs.set(name, { file, port: p, socket });
      return configs.get(name)!;
    };
    const start = async (name: string) => {
      const c = configs.get(name)!;
      nodes.set(name, await startNode(name, c.file, c.port, path.join(dir, `${name}.log`)));
    };
    // A flushes once a minute: what it acknowledges lives only in its journal until the kill.
    await writeConfig('a', 60_000);
    await writeConfig('b', 200);
    await writeConfig('c', 200);
    // A first (it migrates the fresh database), then B and C together.
    await start('a');
    await Promise.all(['b', 'c'].map(start));
    store = await openStore({ postgres: storeUrl }, { poolMax: 2 });
    const node = (n: string) => nodes.get(n)!;

    // 1. Events to all three.
    await Promise.all([
      ...['a', 'b', 'c'].map(async (n) => {
        for (let k = 0; k < 10; k++) assert.ok(await postBatch(node(n)), `node ${n} refused a batch`);
      }),
      sendDatagrams(configs.get('b')!.socket, 300),
      sendDatagrams(configs.get('c')!.socket, 300),
    ]);
    const status = JSON.parse(await cli(['cluster', 'status', '--json', '--config', configs.get('b')!.file]));
    assert.deepEqual(status.nodes.map((n: { node: string }) => n.node).sort(), ['node-a.chaos.example', 'node-b.chaos.example', 'node-c.chaos.example']);
    const journalOfA = status.nodes.find((n: { node: string }) => n.node === 'node-a.chaos.example').journal.rows;
    assert.equal(journalOfA, 10, 'A holds its ten acknowledged batches in its journal only');

    // 2. kill -9 A (no request to it in flight), restart it (now flushing often).
    await node('a').kill();
    await writeConfig('a', 200, configs.get('a')!.port);
    await start('a');
    const afterRestart = JSON.parse(await cli(['cluster', 'status', '--json', '--config', configs.get('c')!.file]));
    assert.equal(afterRestart.nodes.length, 3, 'the killed instance left the registry when its journal was taken over');
    assert.equal(afterRestart['unowned-journal-rows'], 0);

    // 3. PostgreSQL restarts while HTTP batches and datagrams keep coming to all three.
    const firstAckAfter = new Map<string, number>();
    let upAt = Infinity;
    const loops = ['a', 'b', 'c'].map(async (n) => {
      while (sending) {
        if (await postBatch(node(n)) && Date.now() >= upAt && !firstAckAfter.has(n)) firstAckAfter.set(n, Date.now() - upAt);
        await sleep(20);
      }
    });
    const dgLoops = ['a', 'b', 'c'].map(async (n) => {
      while (sending) await sendDatagrams(configs.get(n)!.socket, 20);
    });
    const ackedBefore = seq;
    while (seq < ackedBefore + 3 * 5 * BATCH) await sleep(20);
    await restartPostgres(cluster);
    upAt = Date.now();
    while (firstAckAfter.size < 3 && Date.now() - upAt < RECOVERY_BOUND_MS) await sleep(50);
    sending = false;
    await Promise.all([...loops, ...dgLoops]);
    for (const n of ['a', 'b', 'c']) {
      assert.ok(firstAckAfter.has(n), `node ${n} acknowledged nothing within ${RECOVERY_BOUND_MS} ms of PostgreSQL being back`);
    }

    // 4. Everything acknowledged reaches the counters (datagrams held in memory through the restart).
    const total = expected.reduce((s, e) => s + e.successful + e.failed, 0);
    const stored = async () => {
      const r = await sql<{ n: number | null }>`select cast(sum(successful + failed) as bigint) as n from outbound_policy`.execute(store!.db);
      return Number(r.rows[0]?.n ?? 0);
    };
    for (let i = 0; (await stored()) < total && i < 600; i++) await sleep(100);
    assert.equal(await stored(), total, 'sessions in the store = sessions acknowledged');

    // 5. Windows close while the relay refuses and the receiver answers 500: every target retries.
    const first = JSON.parse(await cli(['outbound', 'send', '--now', '--json', '--config', configs.get('b')!.file]));
    assert.equal(first.closedWindows, DOMAINS);
    assert.equal(relay.received.length, 0);
    assert.ok(receiver.received.length > 0 && receiver.received.every((r) => r.status === 500));
    // 6. Both accept again; two processes send at once, the nodes' schedulers run too.
    relay.setRcptReply(undefined);
    receiver.setStatuses([200]);
    await Promise.all(['a', 'c'].map((n) => cli(['outbound', 'send', '--now', '--json', '--config', configs.get(n)!.file])));
    const outstanding = async () => Number((await store!.db.selectFrom('outbound_target').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '<>', 'sent').executeTakeFirstOrThrow()).n);
    for (let i = 0; (await outstanding()) > 0 && i < 300; i++) await sleep(100);
    assert.equal(await outstanding(), 0, 'every target accepted its report');

    // Each report domain: one report, one policy, the acknowledged counts, once per target.
    const reports = await store.db.selectFrom('outbound_report').select(['report_domain', 'report_id', 'state']).execute();
    assert.equal(reports.length, DOMAINS, 'one report per report domain: none built twice');
    const reportIds = new Map(reports.map((r) => [r.report_domain, r.report_id]));
    const seen = new Map<string, { reportId: string; successful: number; failed: number; policies: number }[]>();
    const note = (gz: Buffer) => {
      const doc = JSON.parse(gunzipSync(gz).toString());
      const d = doc.policies[0].policy['policy-domain'];
      const list = seen.get(d) ?? [];
      list.push({
        reportId: doc['report-id'], policies: doc.policies.length,
        successful: doc.policies.reduce((s: number, p: any) => s + p.summary['total-successful-session-count'], 0),
        failed: doc.policies.reduce((s: number, p: any) => s + p.summary['total-failure-session-count'], 0),
      });
      seen.set(d, list);
    };
    const mailsTo = new Map<string, number>();
    for (const m of relay.received) {
      for (const to of m.to) mailsTo.set(to, (mailsTo.get(to) ?? 0) + 1);
      const parsed = await simpleParser(m.raw);
      const att = parsed.attachments.find((a) => a.contentType === 'application/tlsrpt+gzip');
      assert.ok(att, 'the report mail carries the gzip report');
      note(att.content);
    }
    const postsTo = new Map<string, number>();
    for (const p of receiver.received.filter((r) => r.status === 200)) {
      postsTo.set(p.path, (postsTo.get(p.path) ?? 0) + 1);
      note(p.body);
    }
    for (let i = 0; i < DOMAINS; i++) {
      for (const t of targets(i)) {
        if (t.startsWith('mailto:')) assert.equal(mailsTo.get(t.slice(7)), 1, `${t} got ${mailsTo.get(t.slice(7)) ?? 0} mails`);
        else assert.equal(postsTo.get(`/r${i}`), 1, `${t} accepted ${postsTo.get(`/r${i}`) ?? 0} posts`);
      }
      const copies = seen.get(domain(i)) ?? [];
      assert.equal(copies.length, targets(i).length, `${domain(i)}: one copy per target`);
      for (const c of copies) {
        assert.equal(c.reportId, reportIds.get(domain(i)), `${domain(i)}: every target got the one built report`);
        assert.equal(c.policies, 1, `${domain(i)}: datagram and HTTP outcomes count into one policy`);
        assert.deepEqual({ successful: c.successful, failed: c.failed }, expected[i], `${domain(i)}: reported = acknowledged`);
      }
    }
  } catch (e) {
    for (const n of ['a', 'b', 'c']) {
      try {
        process.stderr.write(`--- ${n}.log (tail)\n${readFileSync(path.join(dir, `${n}.log`), 'utf8').split('\n').slice(-15).join('\n')}\n`);
      } catch {
        // no log
      }
    }
    throw e;
  } finally {
    sending = false;
    await store?.close();
    await Promise.all([...nodes.values()].map((n) => n.stop().catch(() => {})));
    await relay.close();
    await receiver.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

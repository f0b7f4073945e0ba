/**
 * @module test/sending/delivery/cli — `tlsrpt outbound preview` prints only the report JSON;
 * `tlsrpt outbound send --now --json` sends through a real relay (DKIM key from a file) a mail
 * whose signature a receiver verifies, and says what happened per target; a second run sends
 * nothing twice; `GET /api/v1/outbound/reports` shows each target's state. On SQLite and PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openStore, type Store } from '../../../src/store/index.js';
import { freshDatabase, STORE_KINDS } from '../../support/stores.js';
import { assertDkimPass } from './dkim-verify.js';
import { Aggregator } from '../../../src/sending/collect/aggregate.js';
import { outboundRoutes } from '../../../src/http/routes/outbound.js';
import { stsOutcome } from './harness.js';
import { dkimKeyPair } from './dkim-key.js';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/tlsrpt.js');

for (const kind of STORE_KINDS) describe(`tlsrpt outbound preview / send [${kind}]`, () => {
  let dir: string;
  let store: Store;
  let sink: SmtpSink;
  let cfg: string;
  let key: ReturnType<typeof dkimKeyPair>;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-cli-'));
    sink = await startSmtpSink();
    key = dkimKeyPair('example.com', 'tlsrpt');
    writeFileSync(path.join(dir, 'dkim.pem'), key.key.privateKey);
    cfg = path.join(dir, 'cfg.json');
    const db = await freshDatabase(kind);
    writeFileSync(cfg, JSON.stringify({
      store: db.config,
      relay: { host: '127.0.0.1', port: sink.port, secure: false },
      dkim: [{ domain: 'example.com', selector: 'tlsrpt', privateKeyFile: path.join(dir, 'dkim.pem') }],
      delivery: { spreadSeconds: 3600 },
      SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
      TlsReportSettings: { orgName: { else: "'CLI Org'" }, subject: { else: "'TLS report for ' + rcpt_domain" } },
    }));
    store = await openStore(db.config);
    const agg = new Aggregator({ store, sendFrequency: () => 'daily' });
    for (let i = 0; i < 12; i++) agg.add(stsOutcome('example.net', i < 2, 'v=TLSRPTv1; rua=mailto:tls@example.net'));
    await agg.flush();
  });
  after(async () => {
    await store.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('preview prints exactly one pretty JSON document: the report of the current window', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'outbound', 'preview', 'example.net', '--config', cfg], { env: { ...process.env, TLSRPT_LOG_LEVEL: 'error' } });
    const doc = JSON.parse(stdout);
    assert.equal(doc['organization-name'], 'CLI Org');
    assert.equal(doc['contact-info'], 'noreply-tls@example.com', 'contact-info falls back to fromAddress');
    assert.equal(doc.policies[0].summary['total-successful-session-count'], 10);
    assert.equal(doc.policies[0].summary['total-failure-session-count'], 2);
    assert.match(doc['date-range']['start-datetime'], /T00:00:00Z$/);
    assert.match(doc['date-range']['end-datetime'], /T23:59:59Z$/);
    assert.ok(stdout.startsWith('{\n'), 'pretty-printed');
  });

  it('preview of a domain without data says so and exits 1', async () => {
    await assert.rejects(run(process.execPath, [BIN, 'outbound', 'preview', 'nothing.example', '--config', cfg]), (e: { code: number; stderr: string }) => e.code === 1 && /no open window/.test(e.stderr));
  });

  it('send --now closes the window and sends at once; a second run sends nothing twice', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'outbound', 'send', '--now', '--json', '--config', cfg], { env: { ...process.env, TLSRPT_LOG_LEVEL: 'error' } });
    const out = JSON.parse(stdout);
    assert.equal(out.closedWindows, 1);
    assert.deepEqual(out.targets.map((t: { uri: string; state: string }) => [t.uri, t.state]), [['mailto:tls@example.net', 'sent']]);
    assert.equal(sink.received.length, 1);
    assert.match(sink.received[0].raw.toString(), /^Subject: TLS report for example\.net\r$/m, 'the operator\'s subject wins');
    await assertDkimPass(sink.received[0].raw, key);
    const again = JSON.parse((await run(process.execPath, [BIN, 'outbound', 'send', '--now', '--json', '--config', cfg])).stdout);
    assert.equal(again.targets.length, 0);
    assert.equal(sink.received.length, 1);
    const text = (await run(process.execPath, [BIN, 'outbound', 'send', '--config', cfg])).stdout;
    assert.match(text, /nothing to send/);
  });

  it('outbound list shows the built report and each target\'s state', async () => {
    const out = JSON.parse((await run(process.execPath, [BIN, 'outbound', 'list', '--json', '--config', cfg])).stdout);
    assert.equal(out.reports.length, 1);
    assert.equal(out.reports[0].reportDomain, 'example.net');
    assert.deepEqual(out.reports[0].targets.map((t: { uri: string; state: string }) => [t.uri, t.state]), [['mailto:tls@example.net', 'sent']]);
    const text = (await run(process.execPath, [BIN, 'outbound', 'list', '--config', cfg])).stdout;
    assert.match(text, /sent\s+mailto:tls@example\.net\s+at /);
  });

  it('GET /api/v1/outbound/reports shows the report with its target state', async () => {
    const app = outboundRoutes({ store });
    const res = await app.request('/api/v1/outbound/reports?domain=example.net');
    assert.equal(res.status, 200);
    const body = await res.json() as { reports: { state: string; reportId: string; targets: { uri: string; state: string; attempts: number; sentAt: string }[] }[] };
    assert.equal(body.reports.length, 1);
    assert.equal(body.reports[0].state, 'done');
    assert.deepEqual(body.reports[0].targets.map((t) => [t.uri, t.state, t.attempts]), [['mailto:tls@example.net', 'sent', 1]]);
    assert.ok(body.reports[0].targets[0].sentAt);
    assert.equal((await app.request('/api/v1/outbound/reports?state=bogus')).status, 400);
    assert.equal((await app.request('/api/v1/outbound/reports?limit=0')).status, 400);
  });
});

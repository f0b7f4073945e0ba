/**
 * @module test/sending/delivery/sendmail — report mail through the local MTA: `relay.sendmail`
 * runs the command (here a fake sendmail that keeps what it gets) with the envelope sender in -f;
 * `delivery.dkim: "mta"` sends unsigned for the MTA to sign; when we sign and have no key for
 * the dkimSignDomain in force, `serve` refuses to start and `send --now` fails, both saying why.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../../src/store/index.js';
import { Aggregator } from '../../../src/sending/collect/aggregate.js';
import { createSendmailMailer } from '../../../src/sending/deliver/sendmail.js';
import { stsOutcome } from './harness.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/tlsrpt.js');
const env = { ...process.env, TLSRPT_LOG_LEVEL: 'error' };

describe('relay.sendmail and delivery.dkim', () => {
  let dir: string;
  let fake: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-sendmail-'));
    fake = path.join(dir, 'sendmail');
    // Keeps its arguments and the message; exits with $FAKE_EXIT (default 0).
    writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\ncat > "${dir}/message"\necho "fake sendmail says $FAKE_EXIT" >&2\nexit "\${FAKE_EXIT:-0}"\n`);
    chmodSync(fake, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hands the message to the command with -f; sysexits decide temporary or permanent', async () => {
    const mailer = createSendmailMailer(`${fake} -i -t`);
    const raw = Buffer.from('To: tls@example.net\r\nSubject: x\r\n\r\nbody\r\n');
    assert.deepEqual(await mailer.send({ from: 'noreply@example.com', to: 'tls@example.net' }, raw), { kind: 'sent', detail: `handed to ${fake}` });
    assert.deepEqual(readFileSync(path.join(dir, 'argv'), 'utf8').trim().split('\n'), ['-i', '-t', '-f', 'noreply@example.com']);
    assert.deepEqual(readFileSync(path.join(dir, 'message')), raw);
    const withoutT = createSendmailMailer(`${fake} -i`);
    await withoutT.send({ from: 'noreply@example.com', to: 'tls@example.net' }, raw);
    assert.deepEqual(readFileSync(path.join(dir, 'argv'), 'utf8').trim().split('\n'), ['-i', '-f', 'noreply@example.com', '--', 'tls@example.net']);
    process.env.FAKE_EXIT = '75';
    try {
      const temp = await mailer.send({ from: 'noreply@example.com', to: 'tls@example.net' }, raw);
      assert.equal(temp.kind, 'temporary');
      assert.match((temp as { error: string }).error, /exited 75: fake sendmail says 75/);
      process.env.FAKE_EXIT = '67';
      assert.equal((await mailer.send({ from: 'noreply@example.com', to: 'tls@example.net' }, raw)).kind, 'permanent');
    } finally {
      delete process.env.FAKE_EXIT;
    }
    const missing = await createSendmailMailer(path.join(dir, 'nope')).send({ from: 'a@example.com', to: 'b@example.net' }, raw);
    assert.equal(missing.kind, 'temporary');
    assert.match((missing as { error: string }).error, /cannot run relay.sendmail .*ENOENT/);
  });

  it('send --now with delivery.dkim "mta" hands an unsigned report mail to sendmail', async () => {
    const cfg = path.join(dir, 'mta.json');
    const db = path.join(dir, 'mta.sqlite');
    writeFileSync(cfg, JSON.stringify({
      store: { sqlite: db }, relay: { sendmail: `${fake} -i -t` }, delivery: { dkim: 'mta' },
      SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
    }));
    const store = await openStore({ sqlite: db });
    const agg = new Aggregator({ store, sendFrequency: () => 'daily' });
    for (let i = 0; i < 3; i++) agg.add(stsOutcome('example.net', i === 0, 'v=TLSRPTv1; rua=mailto:tls@example.net'));
    await agg.flush();
    await store.close();
    const out = JSON.parse((await run(process.execPath, [BIN, 'outbound', 'send', '--now', '--json', '--config', cfg], { env })).stdout);
    assert.deepEqual(out.targets.map((t: { uri: string; state: string }) => [t.uri, t.state]), [['mailto:tls@example.net', 'sent']]);
    const message = readFileSync(path.join(dir, 'message'), 'utf8');
    assert.match(message, /^To: tls@example\.net\r$/m);
    assert.match(message, /^TLS-Report-Domain: example\.net\r$/m);
    assert.doesNotMatch(message, /^DKIM-Signature:/m, 'the MTA signs, not us');
    assert.deepEqual(readFileSync(path.join(dir, 'argv'), 'utf8').trim().split('\n'), ['-i', '-t', '-f', 'noreply-tls@example.com']);
  });

  it('signing ours without a key for the dkimSignDomain: serve refuses to start, send --now fails', async () => {
    const cfg = path.join(dir, 'nokey.json');
    writeFileSync(cfg, JSON.stringify({
      store: { sqlite: path.join(dir, 'nokey.sqlite') }, http: { listen: '127.0.0.1:0' }, relay: { sendmail: `${fake} -i -t` },
      SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
    }));
    const why = /no DKIM key for example\.com .*"delivery": \{"dkim": "mta"\}/;
    await assert.rejects(run(process.execPath, [BIN, 'serve', '--config', cfg], { env, timeout: 60_000 }),
      (e: { code: number; stderr: string }) => e.code !== 0 && why.test(e.stderr));
    await assert.rejects(run(process.execPath, [BIN, 'outbound', 'send', '--now', '--config', cfg], { env, timeout: 60_000 }),
      (e: { code: number; stderr: string }) => e.code !== 0 && why.test(e.stderr));
  });
});

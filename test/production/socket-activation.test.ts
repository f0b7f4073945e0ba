/**
 * @module test/production/socket-activation — systemd owns the collector's datagram socket
 * (tlsrpt-collector.socket): datagrams sent while no service process runs wait in the kernel
 * queue and are counted once `tlsrpt serve` has taken the socket from LISTEN_FDS. Run with
 * Debian's `systemd-socket-activate --datagram`, which binds the socket, waits for the first
 * datagram and only then starts the service, as systemd does.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { trySendDatagram } from '../../src/sending/collect/sources/datagram-socket.js';
import { inheritedCollectorSocket } from '../../src/sending/collect/sources/socket-activation.js';

const ACTIVATE = '/usr/bin/systemd-socket-activate';
const TOKEN = 'socket-activation-token-0123';
const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-activate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const datagram = (i: number) => Buffer.from(
  `{"dpv":"1","d":"d${i}.example","pr":"v=TLSRPTv1; rua=mailto:tlsrpt@d${i}.example","policies":[{"policy-type":9,"policy-domain":"d${i}.example","t":1,"f":0}]}`,
);

test('LISTEN_FDS: the socket passed is chosen by name, else the only one; another process\'s is ignored', () => {
  assert.equal(inheritedCollectorSocket({}, 10), undefined);
  assert.deepEqual(inheritedCollectorSocket({ LISTEN_FDS: '1', LISTEN_PID: '10' }, 10), { fd: 3 });
  assert.equal(inheritedCollectorSocket({ LISTEN_FDS: '1', LISTEN_PID: '11' }, 10), undefined);
  assert.deepEqual(inheritedCollectorSocket({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:collector' }, 10), { fd: 4, name: 'collector' });
  assert.throws(() => inheritedCollectorSocket({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' }, 10), /FileDescriptorName=collector/);
});

test('datagrams sent before the service runs are counted after it takes the socket over', { timeout: 120_000, skip: !existsSync(ACTIVATE) && `${ACTIVATE} missing (apt-get install systemd)` }, async () => {
  const sock = path.join(dir, 'collector.sock');
  const port = await freePort();
  const cfg = path.join(dir, 'tlsrpt.json');
  writeFileSync(cfg, JSON.stringify({
    store: { sqlite: path.join(dir, 'tlsrpt.db') },
    http: { listen: `127.0.0.1:${port}`, token: TOKEN },
    collector: { flushMs: 100 },
    SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
  }));
  let log = '';
  const child: ChildProcess = spawn(ACTIVATE, [
    '--datagram', '--listen', sock, '--fdname=collector', '-E', 'PATH', '-E', 'HOME', '-E', 'TLSRPT_LOG_FORMAT=json',
    process.execPath, path.resolve('bin/tlsrpt.js'), 'serve', '--config', cfg,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d) => { log += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until('the activator to bind the socket', async () => (existsSync(sock) ? true : undefined), 10_000);
    // No service process yet: the activator starts it on the first datagram. The kernel queue of a
    // fresh socket holds net.unix.max_dgram_qlen + 1 (Linux default 11): all are sent in one go.
    const sent = 8;
    for (let i = 0; i < sent; i++) assert.ok(trySendDatagram(sock, datagram(i)), `datagram ${i} queued in the kernel`);
    assert.doesNotMatch(log, /datagram socket taken over/, 'the service had not started when the datagrams were sent');
    const accepted = await until('the queued datagrams to be counted', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const m = /^tlsrpt_events_accepted_total\{source="datagram"\} (\d+)/m.exec(await r.text());
      return m && Number(m[1]) === sent ? Number(m[1]) : undefined;
    });
    assert.equal(accepted, sent);
    assert.match(log, /datagram socket taken over from systemd \(LISTEN_FDS\)/);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  assert.ok(existsSync(sock), 'the socket file belongs to the activator (systemd) and is left in place');
  assert.match(log, /"stopped"/, log);
});

/**
 * @module bench/ingest-datagram — libtlsrpt datagrams from a SEPARATE sender process (sender.ts,
 * a C send loop in our addon) into the real unix socket of this process, which does the
 * collector's full work: receive, decode and validate (dpv1), aggregate (Aggregator via the
 * collector), flush to SQLite. Checks the store holds every accepted session.
 *
 *   npm run bench -- ingest-datagram [--quick] [--only sustained,burst,steady] [--compare bare,bare-array,decode]
 *
 * Modes (issue 5):
 *   sustained — 1,000,000 datagrams, the sender waits for room on EAGAIN; accepted/s, zero loss.
 *   burst     — 20,000 datagrams non-blocking, no retry, paced at 80,000/s (libtlsrpt's pace)
 *               on the machine's current net.unix.max_dgram_qlen; % accepted (3 runs, median).
 *   steady    — 25,000/s for 20 s, non-blocking, socket created with max_dgram_qlen = 512
 *               (set here when writable, restored right after the socket is bound); lost count.
 * Receivers compared: full (the source's defaults: receive thread, SCHED_FIFO when permitted, full
 * collector work), full-normal (receive thread at normal priority), full-poll (the loop thread
 * polls the socket), decode (dpv1 only, no aggregation), bare (receive thread SCHED_FIFO, count
 * only), bare-normal, bare-poll (uv_poll, shared arena), bare-array (uv_poll, a Buffer per datagram).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { silentLog } from '../../src/common/log.js';
import { createCollector } from '../../src/sending/collect/collector.js';
import { createDatagramSource } from '../../src/sending/collect/sources/datagram.js';
import { bindUnixDatagram } from '../../src/sending/collect/sources/datagram-socket.js';
import { openStore, type Store } from '../../src/store/index.js';

type Receiver = 'full' | 'full-normal' | 'full-poll' | 'decode' | 'bare' | 'bare-normal' | 'bare-poll' | 'bare-array';
const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const listArg = (name: string, dflt: string) => (args[args.indexOf(name) + 1] && args.includes(name) ? args[args.indexOf(name) + 1] : dflt).split(',');
const only = listArg('--only', 'sustained,burst,steady');
const compare = listArg('--compare', 'full-normal,full-poll,decode,bare,bare-normal,bare-poll,bare-array') as Receiver[];
const SENDER_SOCKETS = 8; // like 8 Postfix smtp processes: one socket's SO_SNDBUF holds only ~170 datagrams in flight
const QLEN_FILE = '/proc/sys/net/unix/max_dgram_qlen';
const work = mkdtempSync(path.join(tmpdir(), 'bench-dgram-'));
const readQlen = () => Number(readFileSync(QLEN_FILE, 'utf8').trim());
const originalQlen = readQlen();

/** Binds `bind()` with max_dgram_qlen = want when we may write the sysctl; restores it at once. */
async function withQlen<T>(want: number | undefined, bind: () => Promise<T>): Promise<{ value: T; qlen: number; note: string }> {
  if (want === undefined || want === originalQlen) return { value: await bind(), qlen: originalQlen, note: '' };
  try {
    writeFileSync(QLEN_FILE, String(want));
  } catch (e) {
    return { value: await bind(), qlen: originalQlen, note: `could not set max_dgram_qlen=${want} (${(e as Error).message}); ` };
  }
  try {
    return { value: await bind(), qlen: want, note: '' };
  } finally {
    writeFileSync(QLEN_FILE, String(originalQlen)); // the socket keeps the value it was created with
  }
}

interface Rx { received(): number; accepted(): number; finish(): Promise<{ stored?: number }>; close(): Promise<void> }

async function startReceiver(kind: Receiver, sock: string): Promise<Rx> {
  if (kind.startsWith('bare')) {
    let n = 0;
    const r = bindUnixDatagram(sock, { arrayMode: kind === 'bare-array', threaded: kind === 'bare' || kind === 'bare-normal', realtime: kind === 'bare', maxSize: 256 * 1024 }, (b) => { n += b.count; }, () => {});
    return { received: () => n, accepted: () => n, finish: async () => ({}), close: async () => r.close() };
  }
  let store: Store | undefined;
  let collector: ReturnType<typeof createCollector> | undefined;
  if (kind.startsWith('full')) {
    store = await openStore({ sqlite: path.join(work, `s${Date.now()}.sqlite`) });
    collector = createCollector({ store, log: silentLog });
    await collector.start();
  }
  let decoded = 0;
  const source = createDatagramSource({
    path: sock,
    log: silentLog,
    threaded: kind !== 'full-poll',
    realtime: kind !== 'full-normal',
    onOutcome: collector ? (o) => { collector!.record(o, 'datagram'); } : () => { decoded++; },
  });
  await source.start();
  return {
    received: () => source.stats().received,
    accepted: () => source.stats().accepted,
    async finish() {
      if (!collector || !store) return {};
      await collector.flush();
      const row = await sql<{ n: number | string }>`select coalesce(sum(successful + failed), 0) as n from outbound_policy`.execute(store.db);
      return { stored: Number(row.rows[0].n) };
    },
    async close() {
      await source.stop();
      await collector?.stop();
      await store?.close();
    },
  };
}

/**
 * Datagrams kept: stored sessions for a receiver that stores (each bench datagram is one
 * session), else received. A stored count above received is a counting bug: no figure then.
 */
function kept(r: RunResult): number {
  if (r.stored === undefined) return r.received;
  if (r.stored > r.received || r.accepted > r.received) throw new Error(`${r.mode} ${r.receiver}: stored ${r.stored}, accepted ${r.accepted} > received ${r.received}`);
  return r.stored;
}

interface RunResult { mode: string; receiver: Receiver; offered: number; sent: number; dropped: number; received: number; accepted: number; stored?: number; seconds: number; sendSeconds: number; qlen: number; note: string; meanBytes: number }

async function run(mode: string, receiver: Receiver, count: number, rate: number, retry: boolean, qlen?: number): Promise<RunResult> {
  const sock = path.join(work, `${mode}-${receiver}.sock`);
  const { value: rx, qlen: used, note } = await withQlen(qlen, () => startReceiver(receiver, sock));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'sender.ts'), sock, String(count), String(rate), retry ? '1' : '0', String(SENDER_SOCKETS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  await lines.next(); // ready: corpus built
  const t0 = performance.now();
  child.stdin!.write('go\n');
  const res = JSON.parse(String((await lines.next()).value)) as { sent: number; dropped: number; elapsedNs: number; meanBytes: number };
  const deadline = Date.now() + 30_000;
  while (rx.received() < res.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const { stored } = await rx.finish();
  const seconds = (performance.now() - t0) / 1000;
  const out: RunResult = { mode, receiver, offered: count, sent: res.sent, dropped: res.dropped, received: rx.received(), accepted: rx.accepted(), stored, seconds, sendSeconds: res.elapsedNs / 1e9, qlen: used, note, meanBytes: res.meanBytes };
  await rx.close();
  child.kill();
  return out;
}

function show(r: RunResult): void {
  const rate = Math.round(r.received / r.seconds);
  console.log(`${r.mode.padEnd(9)} ${r.receiver.padEnd(10)} qlen=${r.qlen} offered=${r.offered} sent=${r.sent} dropped-at-sender=${r.dropped} received=${r.received} accepted=${r.accepted}` +
    `${r.stored !== undefined ? ` stored-sessions=${r.stored}` : ''} in ${r.seconds.toFixed(2)} s (send ${r.sendSeconds.toFixed(2)} s) → ${rate}/s, ${r.meanBytes} B mean${r.note ? ` [${r.note}]` : ''}`);
}

const results: string[] = [];
try {
  console.log(`cores=${(await import('node:os')).cpus().length} node=${process.version} max_dgram_qlen=${originalQlen} sender sockets=${SENDER_SOCKETS}`);
  if (only.includes('sustained')) {
    const n = quick ? 200_000 : 1_000_000;
    const full = await run('sustained', 'full', n, 0, true);
    show(full);
    const lossFree = full.received === n && full.accepted === n && full.stored === n;
    if (!lossFree) console.log(`!! sustained run lost datagrams: received ${full.received}, accepted ${full.accepted}, stored ${full.stored} of ${n}`);
    results.push(`RESULT datagrams_per_s ${lossFree ? Math.round(n / full.seconds) : 0} 1/s`);
    // as operators are told to run it: the socket created under max_dgram_qlen = 512
    const q512 = await run('sustained', 'full', n, 0, true, 512);
    show(q512);
    const lossFree512 = q512.received === n && q512.accepted === n && q512.stored === n;
    results.push(`RESULT datagrams_per_s_qlen512 ${lossFree512 ? Math.round(n / q512.seconds) : 0} 1/s`);
    for (const kind of compare) {
      const r = await run('sustained', kind, n, 0, true);
      show(r);
      results.push(`RESULT ${kind.replace('-', '_')}_datagrams_per_s ${Math.round(r.received / r.seconds)} 1/s`);
    }
  }
  if (only.includes('burst')) {
    for (const kind of ['full', ...compare.filter((k) => k !== 'decode' && k !== 'bare-array')] as Receiver[]) {
      const pcts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await run('burst', kind, 20_000, 80_000, false);
        show(r);
        // What counts is what reached the store (a receiver that stores nothing falls back to received).
        pcts.push((100 * kept(r)) / 20_000);
      }
      pcts.sort((a, b) => a - b);
      console.log(`burst ${kind}: accepted ${pcts.map((p) => p.toFixed(1)).join(' / ')} % (median ${pcts[1].toFixed(1)} %)`);
      results.push(`RESULT ${kind === 'full' ? '' : `${kind.replace('-', '_')}_`}burst_accepted_pct ${pcts[1].toFixed(1)} %`);
    }
  }
  if (only.includes('steady')) {
    const seconds = quick ? 5 : 20;
    for (const kind of ['full', ...compare.filter((k) => k === 'full-poll' || k === 'full-normal')] as Receiver[]) {
      const r = await run('steady', kind, 25_000 * seconds, 25_000, false, 512);
      show(r);
      console.log(`steady ${kind}: socket created with max_dgram_qlen=${r.qlen} (machine value ${originalQlen}, restored)`);
      results.push(`RESULT ${kind === 'full' ? '' : `${kind.replace('-', '_')}_`}steady_lost ${25_000 * seconds - kept(r)} datagrams`);
    }
  }
} finally {
  if (readQlen() !== originalQlen) writeFileSync(QLEN_FILE, String(originalQlen));
  rmSync(work, { recursive: true, force: true });
}
for (const l of results) console.log(l);
process.exit(0);

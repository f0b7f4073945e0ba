/**
 * @module sending/collect/sources/datagram — the libtlsrpt datagram source: Postfix 3.10+ (and anything
 * using libtlsrpt) sends one JSON datagram per TLS session to a unix socket; this component
 * binds it, drains it as fast as the kernel delivers, decodes each datagram (dpv1.ts) and hands
 * the outcome to `onOutcome` synchronously — it never waits for the store.
 *
 * Every bad datagram is counted by reason (`stats()`, exported as metrics by the collector),
 * logged at most once per reason per 10 s (with how many there were), and optionally written to
 * `dumpDir` (at most `maxDumpFiles` files). Nothing a sender writes stops the source.
 *
 * Operators: the kernel queue of the socket is net.unix.max_dgram_qlen + 1 datagrams (default
 * 11), fixed when the socket is created. Bursts beyond it are dropped by the kernel at the
 * sender. Raise it before the service starts: `sysctl -w net.unix.max_dgram_qlen=512`.
 * A receive thread (the addon's threaded mode) drains the socket into memory while JS works,
 * so the queue only has to cover the thread's scheduling delays, not store flushes.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../../common/log.js';
import type { Component } from '../../../common/component.js';
import type { TlsSessionOutcome } from '../event.js';
import { bindUnixDatagram, readMaxDgramQlen, type DatagramBatch, type ErrnoError, type UnixDatagramReceiver } from './datagram-socket.js';
import { decodeDpv1, DPV1_MAX_BYTES, DPV1_REJECT_REASONS, type Dpv1RejectReason, type Dpv1Result } from './dpv1.js';

export interface DatagramSourceOptions {
  /** Socket path (config `collector.socket`); with `fd`, only a name for logs. */
  path: string;
  /** An inherited, already bound socket (systemd socket activation) to receive on instead. */
  fd?: number;
  /** File mode, number or octal string ('0660'); default 0o660. */
  mode?: number | string;
  owner?: string | number;
  group?: string | number;
  /** Folder for rejected datagrams (forensics); absent: nothing written. */
  dumpDir?: string;
  /** At most this many files in dumpDir (default 1000). */
  maxDumpFiles?: number;
  log: Logger;
  onOutcome: (outcome: TlsSessionOutcome) => void;
  onReject?: (reason: Dpv1RejectReason, detail: string) => void;
  /** Clock for log rate limiting, ms (tests). */
  now?: () => number;
  /** Poll mode only: datagrams per wake-up at most (default 256). */
  batch?: number;
  /** Default true: a receive thread drains the socket while JS works (see datagram-socket.ts). */
  threaded?: boolean;
  /** Threaded mode: received bytes waiting for JS at most before the thread stops reading (default 4 MiB). */
  maxBufferedBytes?: number;
  /**
   * Threaded mode, default true: run the receive thread SCHED_FIFO when the process may (root or
   * CAP_SYS_NICE), else at normal priority. Measured: a 20,000-datagram burst at 80,000/s on a
   * loaded 2-core machine kept ~100 % instead of 18-50 %. The thread only blocks in poll() and
   * copies, and the kernel's RT throttling bounds it. false: always normal priority.
   */
  realtime?: boolean;
}

export interface DatagramSourceStats {
  /** Datagrams read from the socket. */
  received: number;
  /** Outcomes handed to onOutcome. */
  accepted: number;
  /** Rejected datagrams by reason ('unsupported-dpv' also counts those read as v1 anyway). */
  rejected: Record<Dpv1RejectReason, number>;
  /** recvmsg/poll failures reported by the socket (receiving went on). */
  receiveErrors: number;
  /** onOutcome threw (the outcome is lost; a bug in the consumer). */
  handlerErrors: number;
  dumped: number;
  /** Event-loop wake-ups that drained the socket. */
  wakeups: number;
}

export interface DatagramSource extends Component {
  stats(): DatagramSourceStats;
  /** Test hook: the next receive fails with this errno, as a failing recvmsg would. */
  failNextReceive(errno: number): void;
}

const LOG_EVERY_MS = 10_000;
/**
 * What the receive thread may hold for JS: 4 MiB, ~16,000 libtlsrpt datagrams (mean ~260 B).
 * The addon's 64 MiB filled under sustained load and stayed resident (issue 12's peak budget);
 * a 20,000-datagram burst at libtlsrpt's pace kept the same share with 4, 8 or 64 MiB
 * (bench/ingest-datagram burst): what limits a burst is the kernel queue, not this buffer.
 */
const DEFAULT_BUFFERED_BYTES = 4 << 20;

function parseMode(mode: number | string | undefined): number {
  if (mode === undefined) return 0o660;
  if (typeof mode === 'number') return mode;
  if (!/^0?[0-7]{3,4}$/.test(mode)) throw new Error(`collector.mode ${JSON.stringify(mode)} is not an octal file mode such as "0660"`);
  return Number.parseInt(mode, 8);
}

/**
 * @example
 * const source = createDatagramSource({ path: '/run/tlsrpt/collector.sock', log, onOutcome: (o) => aggregator.add(o) });
 * await source.start();   // …  source.stats().rejected['not-json']
 */
export function createDatagramSource(opts: DatagramSourceOptions): DatagramSource {
  const log = opts.log.child({ component: 'datagram', socket: opts.path });
  const now = opts.now ?? Date.now;
  const mode = parseMode(opts.mode);
  const maxDumpFiles = opts.maxDumpFiles ?? 1000;
  const rejected = Object.fromEntries(DPV1_REJECT_REASONS.map((r) => [r, 0])) as Record<Dpv1RejectReason, number>;
  const stats = { received: 0, accepted: 0, receiveErrors: 0, handlerErrors: 0, dumped: 0 };
  // Rate-limited logging: one line per reason per 10 s, carrying how many were suppressed.
  const lastLog = new Map<string, { at: number; pending: number; detail: string; outcome: string; level: 'warn' | 'info' }>();
  let dumpCount = 0;
  let dumpsInFlight = 0;
  let receiver: UnixDatagramReceiver | undefined;
  let summaryTimer: NodeJS.Timeout | undefined;

  /**
   * `outcome` says what happened to the datagrams (`rejected`, or `read as dpv 1` for a newer
   * protocol version that was stored anyway — logged at info, as nothing was lost).
   */
  function logLimited(kind: string, detail: string, outcome = 'rejected', level: 'warn' | 'info' = 'warn'): void {
    const t = now();
    const entry = lastLog.get(kind);
    if (entry && t - entry.at < LOG_EVERY_MS) {
      entry.pending++;
      entry.detail = detail;
      return;
    }
    const suppressed = entry?.pending ?? 0;
    lastLog.set(kind, { at: t, pending: 0, detail, outcome, level });
    log[level]({ reason: kind, detail, count: suppressed + 1 }, suppressed
      ? `${suppressed + 1} datagrams ${outcome} (${kind}) in the last ${LOG_EVERY_MS / 1000} s; latest: ${detail}`
      : `datagram ${outcome} (${kind}): ${detail}`);
  }

  /** Logs what was suppressed: every `LOG_EVERY_MS`, and all of it (`force`) on stop. */
  function flushSuppressed(force = false): void {
    const t = now();
    for (const [kind, e] of lastLog) {
      if (e.pending > 0 && (force || t - e.at >= LOG_EVERY_MS)) {
        log[e.level]({ reason: kind, detail: e.detail, count: e.pending }, `${e.pending} datagrams ${e.outcome} (${kind}) in the last ${Math.max(1, Math.round((t - e.at) / 1000))} s; latest: ${e.detail}`);
        lastLog.set(kind, { ...e, at: t, pending: 0 });
      }
    }
  }

  function dump(reason: Dpv1RejectReason, bytes: Buffer | undefined): void {
    if (!opts.dumpDir || !bytes || dumpCount >= maxDumpFiles || dumpsInFlight >= 32) return;
    dumpCount++;
    dumpsInFlight++;
    const file = path.join(opts.dumpDir, `${Date.now()}-${process.pid}-${dumpCount}-${reason}.dgram`);
    // a copy: the receive arena is reused as soon as this batch is done
    writeFile(file, Buffer.from(bytes), { mode: 0o600 })
      .then(() => { stats.dumped++; })
      .catch((e: Error) => logLimited('dump-failed', `${file}: ${e.message}`))
      .finally(() => { dumpsInFlight--; });
  }

  function reject(r: Extract<Dpv1Result, { ok: false }>, bytes: Buffer | undefined): void {
    rejected[r.reason]++;
    logLimited(r.reason, r.detail);
    dump(r.reason, bytes);
    if (opts.onReject) {
      try {
        opts.onReject(r.reason, r.detail);
      } catch (e) {
        stats.handlerErrors++;
        logLimited('handler-error', (e as Error).message);
      }
    }
  }

  function handle(r: Dpv1Result, bytes: Buffer | undefined): void {
    if (r.unsupportedDpv !== undefined) {
      rejected['unsupported-dpv']++;
      if (r.ok) logLimited('unsupported-dpv', `dpv ${r.unsupportedDpv}; read as dpv 1 and stored`, 'read as dpv 1', 'info');
      else logLimited('unsupported-dpv', `dpv ${r.unsupportedDpv}; read as dpv 1 and rejected (${r.reason})`);
    }
    if (!r.ok) return reject(r, bytes);
    try {
      opts.onOutcome(r.outcome);
      stats.accepted++;
    } catch (e) {
      stats.handlerErrors++;
      logLimited('handler-error', (e as Error).message);
    }
  }

  function onBatch(b: DatagramBatch): void {
    const { arena, lengths } = b;
    let off = 0;
    for (let i = 0; i < b.count; i++) {
      const n = lengths[i] ?? 0; // i < b.count
      stats.received++;
      try {
        if (n < 0) {
          handle({ ok: false, reason: 'oversize', detail: `${-n} bytes, limit ${DPV1_MAX_BYTES}` }, undefined);
          continue;
        }
        const start = off;
        off += n;
        const r = decodeDpv1(arena, start, off);
        handle(r, r.ok ? undefined : arena.subarray(start, off));
      } catch (e) {
        // a bug in decoding, never the sender's fault: count it, keep the rest of the batch
        stats.handlerErrors++;
        logLimited('handler-error', (e as Error).stack ?? String(e));
      }
    }
  }

  return {
    name: 'datagram',
    async start() {
      if (receiver) return;
      const qlen = readMaxDgramQlen();
      if (qlen !== undefined && qlen < 128) {
        log.warn({ maxDgramQlen: qlen },
          `net.unix.max_dgram_qlen is ${qlen}: the socket queues only ${qlen + 1} datagrams, so bursts from the MTA are dropped by the kernel. ` +
          'Raise it before starting the service: sysctl -w net.unix.max_dgram_qlen=512 (and persist it in /etc/sysctl.d/)');
      }
      if (opts.dumpDir) {
        mkdirSync(opts.dumpDir, { recursive: true, mode: 0o700 });
        dumpCount = readdirSync(opts.dumpDir).filter((f) => f.endsWith('.dgram')).length;
      }
      if (opts.fd === undefined) mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true });
      try {
        receiver = bindUnixDatagram(opts.path, {
          mode, owner: opts.owner, group: opts.group, batch: opts.batch, maxSize: DPV1_MAX_BYTES, fd: opts.fd,
          threaded: opts.threaded, maxBufferedBytes: opts.maxBufferedBytes ?? DEFAULT_BUFFERED_BYTES, realtime: opts.realtime ?? true,
        }, onBatch, (e) => {
          stats.receiveErrors++;
          logLimited('receive-error', e.message);
        });
      } catch (e) {
        throw explainBindError(e as ErrnoError, { path: path.resolve(opts.path), owner: opts.owner, group: opts.group });
      }
      summaryTimer = setInterval(flushSuppressed, LOG_EVERY_MS);
      summaryTimer.unref();
      const info = receiver.info();
      // Measured with a libtlsrpt burst: 99.7% kept with SCHED_FIFO, 88–95% without (issue 11).
      if (info.threaded && !info.realtime && opts.realtime !== false) log.warn(REALTIME_HINT);
      log.info({ ...(opts.fd === undefined ? { mode: mode.toString(8) } : { inheritedFd: opts.fd }), maxDgramQlen: qlen, threaded: info.threaded, realtime: info.realtime },
        opts.fd === undefined ? 'datagram socket listening' : 'datagram socket taken over from systemd (LISTEN_FDS)');
    },
    async stop() {
      if (summaryTimer) clearInterval(summaryTimer);
      summaryTimer = undefined;
      receiver?.close();
      receiver = undefined;
      flushSuppressed(true);
    },
    failNextReceive(errno) {
      receiver?.failNextReceive(errno);
    },
    stats() {
      return { ...stats, rejected: { ...rejected }, wakeups: receiver?.info().wakeups ?? 0 };
    },
  };
}

/** The start-up warning when the receive thread could not get realtime priority, with the unit-file fix. */
export const REALTIME_HINT = 'datagram receive thread runs at normal priority (SCHED_FIFO needs root or CAP_SYS_NICE): '
  + 'under CPU contention a burst from the MTA loses 5–12% of its datagrams instead of 0.3%. Fix: add the line '
  + '"AmbientCapabilities=CAP_SYS_NICE" to the [Service] section of the tlsrpt unit (systemctl edit tlsrpt), then restart';

/**
 * The bind error in the operator's terms. The one met in practice: `collector.group` names a
 * group the service user is not in, so chown(2) answers EPERM — the fix is group membership,
 * which "chown EPERM" does not say.
 */
export function explainBindError(e: ErrnoError, a: { path: string; owner?: string | number; group?: string | number }): Error {
  if (e.syscall === 'chown' && (e.code === 'EPERM' || e.code === 'EACCES')) {
    const user = (() => {
      try {
        return userInfo().username;
      } catch {
        return String(process.getuid?.() ?? 'the service user');
      }
    })();
    const what = a.group !== undefined ? `group ${a.group}` : `owner ${a.owner}`;
    const fix = a.group !== undefined
      ? `add ${user} to group ${a.group} (usermod -aG ${a.group} ${user}, or SupplementaryGroups=${a.group} in the unit file) and restart, or remove collector.group`
      : `run as root or remove collector.owner`;
    return Object.assign(new Error(`cannot give the datagram socket ${a.path} ${what}: ${user} may not (${e.code}). Fix: ${fix}`), { code: e.code, cause: e });
  }
  if (e.syscall === 'bind' && e.code === 'EACCES') {
    return Object.assign(new Error(`cannot create the datagram socket ${a.path}: ${e.code} — the service user needs write access to ${path.dirname(a.path)}`), { code: e.code, cause: e });
  }
  return e;
}

/**
 * @module sending/collect/sources/datagram-socket — typed access to our unix datagram addon
 * (native/unix-dgram): bind a receiving AF_UNIX SOCK_DGRAM socket that is drained in batches,
 * and send datagrams (tests, benchmark). Node's `dgram` has no AF_UNIX; the npm `unix-dgram`
 * 2.0.7 truncates datagrams over 64 KiB silently and crashes on a receive error.
 *
 * Kernel queue: a unix datagram socket holds at most `net.unix.max_dgram_qlen` + 1 datagrams
 * (Linux default 10 + 1), fixed when the socket is created; SO_RCVBUF does not change it.
 * Operators raise it BEFORE the service starts: `sysctl -w net.unix.max_dgram_qlen=512`
 * (persist in /etc/sysctl.d/). A sender also holds at most its SO_SNDBUF of bytes in flight.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Addon {
  bind(path: string, options: object, onBatch: (count: number, buffers?: (Buffer | null)[]) => void, onError: (e: Error) => void):
    { handle: object; arena: Buffer; lengths: Int32Array };
  close(handle: object): void;
  info(handle: object): ReceiverInfo;
  failNextRecv(handle: object, errno: number): void;
  send(path: string, data: Uint8Array): number;
  sendMany(path: string, data: Uint8Array, lengths: Int32Array, count: number, options: object): [number, number, number, number];
  trimHeap(): boolean;
}

const ADDON_PATH = '../../../../native/unix-dgram/build/Release/unix_dgram.node';
let addon: Addon | undefined;

/** Loads the addon on first use, with the fix in the error when it was never built. */
function load(): Addon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (e) {
    throw new Error(`the unix datagram addon (native/unix-dgram) is not built: run \`npm run build:native\` (needs a C compiler, make, python3). Cause: ${(e as Error).message}`);
  }
  return addon;
}

export interface ReceiverInfo {
  wakeups: number;
  callbacks: number;
  datagrams: number;
  truncated: number;
  errors: number;
  batch: number;
  maxSize: number;
  /** Threaded mode: bytes received by the thread and not yet handed to JS. */
  bufferedBytes: number;
  /** The kernel queue of this socket (max_dgram_qlen + 1 when it was created; 0 if unknown). */
  queueLength: number;
  /** Threaded mode: pause after emptying the queue, to take the next datagrams in one wake-up (0 with short queues). */
  coalesceMicros: number;
  threaded: boolean;
  /** The receive thread runs SCHED_FIFO (asked for and granted). */
  realtime: boolean;
  rcvbuf?: number;
  closed: boolean;
}

export interface BindOptions {
  /** File mode of the socket (e.g. 0o660): who may send. */
  mode?: number;
  /** Owner / group of the socket file: a name or a numeric id (needs privileges). */
  owner?: string | number;
  group?: string | number;
  /** Datagrams received per event-loop wake-up, at most (default 256). */
  batch?: number;
  /** Longer datagrams are reported by their length, without data (default 256 KiB). */
  maxSize?: number;
  /** SO_RCVBUF asked for (default 4 MiB); it does not lengthen the queue (see the module comment). */
  rcvbuf?: number;
  /** A fresh Buffer per datagram instead of the shared arena (poll mode only; slower; kept for measurement). */
  arrayMode?: boolean;
  /**
   * Default true: a receive thread drains the socket into memory and the loop thread hands it
   * to JS, so a busy JS thread (store flush, GC) does not make the kernel drop datagrams.
   * false: the loop thread drains on readability (uv_poll), at most `batch` per wake-up.
   */
  threaded?: boolean;
  /** Threaded mode: the receive thread stops reading when this much waits for JS (default 64 MiB; the datagram source passes 4 MiB). */
  maxBufferedBytes?: number;
  /**
   * Threaded mode: run the receive thread SCHED_FIFO (needs root or CAP_SYS_NICE; silently
   * normal otherwise — see info().realtime). Without it the thread asks the kernel for a short
   * time slice (Linux 6.12+), which helps as long as the machine is not overloaded.
   */
  realtime?: boolean;
  /**
   * An already bound socket to receive on (systemd socket activation) instead of binding `path`:
   * mode, owner and group are the socket unit's; close() leaves its file alone.
   */
  fd?: number;
}

/**
 * Returns the C heap's free pages to the system (glibc malloc_trim): start-up frees a lot
 * (module sources, compiler buffers) that an idle daemon would otherwise keep resident.
 */
export function trimNativeHeap(): boolean {
  try {
    return load().trimHeap();
  } catch {
    return false;
  }
}

/**
 * One batch of datagrams (one wake-up in poll mode, one chunk of the receive thread). Datagram i is `lengths[i]` bytes of `arena`, back to back from
 * offset 0; a negative length is a datagram longer than `maxSize` (its real length, negated),
 * which takes no bytes. `arena` is reused: copy what must outlive the callback.
 * In arrayMode, `buffers[i]` is datagram i (null when oversize) instead.
 */
export interface DatagramBatch {
  count: number;
  lengths: Int32Array;
  arena: Buffer;
  buffers?: (Buffer | null)[];
}

export interface UnixDatagramReceiver {
  readonly path: string;
  info(): ReceiverInfo;
  /** Stops receiving, closes the socket and removes its file (if still ours). Idempotent. */
  close(): void;
  /** Test hook: the next receive fails with this errno, as a failing recvmsg would. */
  failNextReceive(errno: number): void;
}

/**
 * Binds a unix datagram socket at `path` (a stale socket file of a dead process is replaced;
 * a live one or a non-socket file is an error) and calls `onBatch` once per wake-up.
 * Receive errors go to `onError` and receiving goes on.
 * @example const r = bindUnixDatagram('/run/tlsrpt.sock', { mode: 0o660 }, (b) => …, (e) => log.warn(e));
 */
export function bindUnixDatagram(path: string, options: BindOptions, onBatch: (batch: DatagramBatch) => void, onError: (e: Error) => void): UnixDatagramReceiver {
  const a = load();
  const native = { ...options, arrayMode: options.arrayMode ? 1 : 0, threaded: options.threaded === false || options.arrayMode ? 0 : 1, realtime: options.realtime ? 1 : 0 };
  let bound: { handle: object; arena: Buffer; lengths: Int32Array } | undefined;
  const batch: DatagramBatch = { count: 0, lengths: new Int32Array(0), arena: Buffer.alloc(0) };
  bound = a.bind(path, native, (count, buffers) => {
    batch.count = count;
    batch.buffers = buffers;
    onBatch(batch);
  }, onError);
  batch.lengths = bound.lengths;
  batch.arena = bound.arena;
  const handle = bound.handle;
  let closed = false;
  return {
    path,
    info: () => a.info(handle),
    close: () => {
      if (closed) return;
      closed = true;
      a.close(handle);
      bound = undefined;
    },
    failNextReceive: (errno) => a.failNextRecv(handle, errno),
  };
}

/** An Error with Node's errno shape, as the addon throws them. */
export type ErrnoError = Error & { code?: string; errno?: number; syscall?: string };

/**
 * Sends one datagram without blocking. Returns false when the receiver's queue is full
 * (EAGAIN: a non-blocking sender like libtlsrpt loses it); throws on other errors
 * (ENOENT: nobody bound there, ECONNREFUSED: stale socket file, EMSGSIZE: too large).
 */
export function trySendDatagram(path: string, data: Uint8Array): boolean {
  const n = load().send(path, Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (n >= 0) return true;
  if (n === -11) return false;
  const code = ({ 2: 'ENOENT', 111: 'ECONNREFUSED', 90: 'EMSGSIZE', 13: 'EACCES', 105: 'ENOBUFS' } as Record<number, string>)[-n] ?? `errno ${-n}`;
  const e: ErrnoError = new Error(`send to ${path} failed: ${code}`);
  e.errno = n;
  e.code = code;
  e.syscall = 'sendto';
  throw e;
}

export interface SendManyResult { sent: number; dropped: number; elapsedNs: number; waits: number }

/**
 * Benchmark sender: `count` datagrams cycling through the ones laid out in `data` (lengths in
 * `lengths`), from `sockets` connected sockets in turn, paced at `rate`/s (0 = flat out).
 * `retry`: wait for room (poll POLLOUT) on EAGAIN instead of dropping. Blocks the caller.
 */
export function sendManyDatagrams(path: string, data: Buffer, lengths: Int32Array, count: number,
  options: { rate?: number; retry?: boolean; sockets?: number; sndbuf?: number } = {}): SendManyResult {
  const [sent, dropped, elapsedNs, waits] = load().sendMany(path, data, lengths, count, { ...options, retry: options.retry ? 1 : 0 });
  return { sent, dropped, elapsedNs, waits };
}

/** The kernel's queue length for new unix datagram sockets (minus one), or undefined when unreadable. */
export function readMaxDgramQlen(): number | undefined {
  try {
    const n = Number.parseInt(readFileSync('/proc/sys/net/unix/max_dgram_qlen', 'utf8'), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

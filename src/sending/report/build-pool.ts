/**
 * @module sending/report/build-pool — one worker thread for the CPU half of report building (JSON,
 * file name, gzip: `report-files.ts`), so the scheduler's main thread claims, reads and stores
 * the next batches while the worker builds. A batch goes to the worker at once, in chunks; a
 * thread that waits for a batch (`wait`) takes the chunks the worker has not started yet, from
 * the far end, and builds them itself rather than idle (a shared flag per chunk says who has it),
 * so the two threads share the work whichever is slower.
 *
 * A worker that cannot start is not retried: everything is built in-process instead. A worker
 * that dies at work fails the batches whose chunks it held (the scheduler releases their claims
 * and retries them later); the next batch starts another. The worker never keeps the process
 * alive while idle, and ends after `idleMs` unused.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/log.js';
import { buildFiles, packJobs, unpackFiles, type FileJob, type FileResult, type PackedFiles } from './report-files.js';

export interface BuildPool {
  /** Builds a batch, results in job order; rejects when the worker died with it (or the pool is closed). */
  build(jobs: FileJob[]): Promise<FileResult[]>;
  /** Waits for a batch from `build`, meanwhile building in this thread chunks the worker has not started. */
  wait(batch: Promise<FileResult[]>): Promise<FileResult[]>;
  /** Ends the worker; batches not built yet are rejected. Idempotent. */
  close(): Promise<void>;
}

export interface BuildPoolOptions {
  log?: Logger;
  /** An idle worker ends after this long (default 30 s); the next batch starts another. */
  idleMs?: number;
  /** Jobs per chunk (default 50): the share a waiting thread can take over at a time. */
  chunk?: number;
  /** Tests: sees each worker as it is started (to make one die). */
  onWorker?: (worker: Worker) => void;
  /** Tests: the worker's script (default ./build-worker.mjs) and what it is given. */
  workerUrl?: URL;
  workerData?: unknown;
}

/** Builds in this thread: the fallback, and what small runs use (no worker start-up to pay). */
export const inProcessBuilder: BuildPool = {
  build: async (jobs) => buildFiles(jobs),
  wait: (batch) => batch,
  close: async () => {},
};

/** Chunk flags, shared with build-worker.ts: 0 free, 1 taken by the worker, 2 taken by this thread. */
const FREE = 0;
const HERE = 2;

interface PendingBatch {
  /** One Int32 flag per chunk, shared with the worker. */
  flags: Int32Array;
  chunks: Chunk[];
  parts: (FileResult[] | undefined)[];
  left: number;
  done: boolean;
  resolve(r: FileResult[]): void;
  reject(e: Error): void;
}
/** `jobs` is kept until someone has built the chunk: this thread may still take it over. */
interface Chunk { batch: PendingBatch; index: number; jobs?: FileJob[] }
interface Slot { worker: Worker; ready: boolean; held: Map<number, Chunk>; done: boolean }

/**
 * @example
 * const pool = createBuildPool({ log });
 * const files = await pool.wait(pool.build(jobs));
 * await pool.close();
 */
export function createBuildPool(opts: BuildPoolOptions = {}): BuildPool {
  const idleMs = opts.idleMs ?? 30_000;
  const chunkSize = Math.max(1, opts.chunk ?? 50);
  let nextId = 0;
  let closed = false;
  let broken = false;
  let slot: Slot | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  /** Batches not settled yet, oldest first. */
  const open: PendingBatch[] = [];
  const byPromise = new WeakMap<Promise<FileResult[]>, PendingBatch>();

  const settle = (b: PendingBatch, outcome: { files: FileResult[] } | { error: Error }) => {
    if (b.done) return;
    b.done = true;
    open.splice(open.indexOf(b), 1);
    for (const c of b.chunks) delete c.jobs;
    if ('error' in outcome) b.reject(outcome.error);
    else b.resolve(outcome.files);
  };
  const complete = (c: Chunk, files: FileResult[]) => {
    const b = c.batch;
    delete c.jobs;
    if (b.done) return;
    b.parts[c.index] = files;
    if (--b.left === 0) settle(b, { files: b.parts.flatMap((p) => p!) });
  };
  /** Takes a chunk for this thread (unless the worker started it) and builds it. */
  const takeAndBuild = (c: Chunk): boolean => {
    if (c.batch.done || !c.jobs || Atomics.compareExchange(c.batch.flags, c.index, FREE, HERE) !== FREE) return false;
    try {
      complete(c, buildFiles(c.jobs));
    } catch (e) {
      settle(c.batch, { error: e as Error });
    }
    return true;
  };

  /** The slot's worker is gone (exit, error, close, idle): settle what it held. */
  const retire = (s: Slot, why: string) => {
    if (s.done) return;
    s.done = true;
    if (slot === s) slot = undefined;
    const held = [...s.held.values()];
    s.held.clear();
    if (!s.ready && !closed) {
      // It never loaded (no tsx, a broken install, no threads): build here from now on.
      broken = true;
      opts.log?.warn({ reason: why }, 'report build worker could not start: building reports in the main thread');
      for (const c of held) takeAndBuild(c);
      return;
    }
    // A chunk it had not started may be taken here still; one it had started is lost with it.
    for (const c of held) {
      if (c.batch.done || takeAndBuild(c)) continue;
      if (Atomics.load(c.batch.flags, c.index) !== HERE) settle(c.batch, { error: new Error(closed ? 'the report build pool is closed' : `report build worker ${why}`) });
    }
  };

  const spawn = (): Slot | undefined => {
    let worker: Worker;
    try {
      worker = new Worker(opts.workerUrl ?? new URL('./build-worker.mjs', import.meta.url), { workerData: opts.workerData });
    } catch (e) {
      broken = true;
      opts.log?.warn({ err: e }, 'report build worker could not start: building reports in the main thread');
      return undefined;
    }
    const s: Slot = { worker, ready: false, held: new Map(), done: false };
    worker.on('message', (m: { ready?: true; id: number; error?: string; skipped?: true; packed?: PackedFiles }) => {
      if (m.ready) {
        s.ready = true;
        return;
      }
      const c = s.held.get(m.id);
      if (!c) return;
      s.held.delete(m.id);
      if (m.error !== undefined) settle(c.batch, { error: new Error(`report build failed: ${m.error}`) });
      else if (m.packed) complete(c, unpackFiles(m.packed));
      idle(s);
    });
    worker.on('error', (e) => retire(s, `crashed: ${e.message}`));
    worker.on('exit', (code) => retire(s, `exited with code ${code}`));
    worker.unref();
    opts.onWorker?.(worker);
    return s;
  };

  /** Nothing held: the worker lets the process exit, and ends if it stays unused. */
  const idle = (s: Slot) => {
    if (s.held.size) return;
    s.worker.unref();
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (slot === s && !s.held.size) {
        retire(s, 'ended (idle)');
        void s.worker.terminate();
      }
    }, idleMs);
    idleTimer.unref();
  };

  return {
    build(jobs) {
      if (closed) return Promise.reject(new Error('the report build pool is closed'));
      const n = Math.ceil(jobs.length / chunkSize);
      let b!: PendingBatch;
      const p = new Promise<FileResult[]>((resolve, reject) => {
        b = { flags: new Int32Array(new SharedArrayBuffer(4 * Math.max(1, n))), chunks: [], parts: new Array(n), left: n, done: false, resolve, reject };
      });
      byPromise.set(p, b);
      open.push(b);
      for (let i = 0; i < n; i++) b.chunks.push({ batch: b, index: i, jobs: jobs.slice(i * chunkSize, (i + 1) * chunkSize) });
      if (n === 0) settle(b, { files: [] });
      if (!broken && !slot && n > 0) slot = spawn();
      const s = slot;
      if (broken || !s) {
        for (const c of b.chunks) takeAndBuild(c);
        return p;
      }
      clearTimeout(idleTimer);
      s.worker.ref();
      for (const c of b.chunks) {
        const id = ++nextId;
        s.held.set(id, c);
        try {
          s.worker.postMessage({ id, jobs: packJobs(c.jobs!), flags: b.flags.buffer, index: c.index });
        } catch (e) {
          s.held.delete(id);
          settle(b, { error: e as Error });
          break;
        }
      }
      return p;
    },
    async wait(p) {
      const b = byPromise.get(p);
      while (b && !b.done) {
        // This batch's last chunk not started yet; else the newest batch's: the worker works from the front.
        let taken = false;
        for (const target of [b, ...[...open].reverse().filter((x) => x !== b)]) {
          for (const chunk of [...target.chunks].reverse()) if (!taken) taken = takeAndBuild(chunk);
          if (taken) break;
        }
        if (!taken) break;
        // Lets the worker's answers in before taking another chunk.
        await new Promise((r) => setImmediate(r));
      }
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(idleTimer);
      const s = slot;
      // Mark every chunk not started as taken here, then fail its batch: nothing more is built.
      for (const b of [...open]) {
        for (const c of b.chunks) Atomics.compareExchange(b.flags, c.index, FREE, HERE);
        settle(b, { error: new Error('the report build pool is closed') });
      }
      if (!s) return;
      retire(s, 'stopped (pool closed)');
      await s.worker.terminate();
    },
  };
}

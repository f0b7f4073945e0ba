/**
 * @module sending/build-pool — one worker thread for the CPU half of report building (JSON,
 * file name, gzip: `report-files.ts`), so the scheduler's main thread claims, reads and stores
 * the next batches while the worker builds this one. A worker that cannot start is not retried:
 * batches are built in-process instead. A worker that dies at work fails the batches it held
 * (the scheduler releases their claims and retries them later) and is replaced on the next
 * batch. The worker never keeps the process alive while idle, and ends after `idleMs` unused.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { buildFiles, type FileBatch, type FileJob } from './report-files.js';

export interface BuildPool {
  /** Builds a batch; rejects when the worker died with it (or the pool is closed). */
  build(jobs: FileJob[]): Promise<FileBatch>;
  /** Ends the worker; batches still held are rejected. Idempotent. */
  close(): Promise<void>;
}

export interface BuildPoolOptions {
  log?: Logger;
  /** An idle worker ends after this long (default 30 s); the next batch starts another. */
  idleMs?: number;
  /** Tests: sees each worker as it is started (to make one die). */
  onWorker?: (worker: Worker) => void;
  /** Tests: the worker's script (default ./build-worker.mjs). */
  workerUrl?: URL;
}

/** `jobs` is kept only until the worker is ready (to build them here if it never is): they hold a batch's counters' text. */
interface Pending { jobs?: FileJob[]; resolve(b: FileBatch): void; reject(e: Error): void }
interface Slot { worker: Worker; ready: boolean; jobs: Map<number, Pending>; done: boolean }

/** Builds in this thread: the fallback, and what small runs use (no worker start-up to pay). */
export const inProcessBuilder: BuildPool = {
  build: async (jobs) => buildFiles(jobs),
  close: async () => {},
};

/**
 * @example
 * const pool = createBuildPool({ log });
 * const { results, gz } = await pool.build(jobs);
 * await pool.close();
 */
export function createBuildPool(opts: BuildPoolOptions = {}): BuildPool {
  const idleMs = opts.idleMs ?? 30_000;
  let nextId = 0;
  let closed = false;
  let broken = false;
  let slot: Slot | undefined;
  let idleTimer: NodeJS.Timeout | undefined;

  const inProcess = (p: Pending) => {
    try {
      p.resolve(buildFiles(p.jobs!));
    } catch (e) {
      p.reject(e as Error);
    }
  };

  /** The slot's worker is gone (exit, error, close, idle): settle what it held. */
  const retire = (s: Slot, why: string) => {
    if (s.done) return;
    s.done = true;
    if (slot === s) slot = undefined;
    const held = [...s.jobs.values()];
    s.jobs.clear();
    if (!s.ready && !closed) {
      // It never loaded (no tsx, a broken install, no threads): build here from now on.
      broken = true;
      opts.log?.warn({ reason: why }, 'report build worker could not start: building reports in the main thread');
      for (const p of held) inProcess(p);
      return;
    }
    for (const p of held) p.reject(new Error(`report build worker ${why}`));
  };

  const spawn = (): Slot | undefined => {
    let worker: Worker;
    try {
      worker = new Worker(opts.workerUrl ?? new URL('./build-worker.mjs', import.meta.url));
    } catch (e) {
      broken = true;
      opts.log?.warn({ err: e }, 'report build worker could not start: building reports in the main thread');
      return undefined;
    }
    const s: Slot = { worker, ready: false, jobs: new Map(), done: false };
    worker.on('message', (m: { ready?: true; id: number; error?: string; results?: FileBatch['results']; gz?: ArrayBuffer; gzOffset?: number; gzBytes?: number }) => {
      if (m.ready) {
        s.ready = true;
        for (const p of s.jobs.values()) delete p.jobs;
        return;
      }
      const p = s.jobs.get(m.id);
      if (!p) return;
      s.jobs.delete(m.id);
      idle(s);
      if (m.error !== undefined) p.reject(new Error(`report build failed: ${m.error}`));
      else p.resolve({ results: m.results!, gz: Buffer.from(m.gz!, m.gzOffset, m.gzBytes) });
    });
    worker.on('error', (e) => retire(s, `crashed: ${e.message}`));
    worker.on('exit', (code) => retire(s, `exited with code ${code}`));
    worker.unref();
    opts.onWorker?.(worker);
    return s;
  };

  /** No batch left: let the process exit, and end the worker if it stays unused. */
  const idle = (s: Slot) => {
    if (s.jobs.size) return;
    s.worker.unref();
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (slot === s && !s.jobs.size) {
        retire(s, 'ended (idle)');
        void s.worker.terminate();
      }
    }, idleMs);
    idleTimer.unref();
  };

  return {
    build(jobs) {
      if (closed) return Promise.reject(new Error('the report build pool is closed'));
      return new Promise<FileBatch>((resolve, reject) => {
        const p: Pending = { resolve, reject };
        if (!broken && !slot) slot = spawn();
        if (broken || !slot) {
          inProcess({ jobs, resolve, reject });
          return;
        }
        if (!slot.ready) p.jobs = jobs;
        clearTimeout(idleTimer);
        const id = ++nextId;
        slot.jobs.set(id, p);
        slot.worker.ref();
        try {
          slot.worker.postMessage({ id, jobs });
        } catch (e) {
          slot.jobs.delete(id);
          idle(slot);
          reject(e as Error);
        }
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(idleTimer);
      const s = slot;
      if (!s) return;
      retire(s, 'stopped (pool closed)');
      await s.worker.terminate();
    },
  };
}

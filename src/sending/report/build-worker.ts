/**
 * @module sending/report/build-worker — the worker-thread side of `build-pool.ts`: builds the chunks of
 * jobs the pool posts (packed by `packJobs`; `buildFiles`: report JSON, file name, gzip) and sends
 * each chunk's gzips back as one transferred buffer. A chunk the main thread has taken meanwhile
 * (its flag in the batch's shared array is no longer 0) is skipped. Says `ready` once loaded, so the pool can tell
 * a worker that could not start (build in-process instead) from one that died at work.
 */
import { parentPort } from 'node:worker_threads';
import { buildFiles, packFiles, unpackJobs, type PackedJobs } from './report-files.js';

/** Chunk flags, shared with build-pool.ts: 0 free, 1 taken by the worker, 2 taken by the main thread. */
const FREE = 0;
const WORKER = 1;

parentPort!.on('message', (m: { id: number; jobs: PackedJobs; flags: SharedArrayBuffer; index: number }) => {
  if (Atomics.compareExchange(new Int32Array(m.flags), m.index, FREE, WORKER) !== FREE) {
    parentPort!.postMessage({ id: m.id, skipped: true });
    return;
  }
  let packed;
  try {
    packed = packFiles(buildFiles(unpackJobs(m.jobs)));
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error)?.message ?? String(e) });
    return;
  }
  parentPort!.postMessage({ id: m.id, packed }, [packed.gz]);
});
parentPort!.postMessage({ ready: true });

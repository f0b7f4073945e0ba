/**
 * @module sending/build-worker — the worker-thread side of `build-pool.ts`: builds the batches
 * the scheduler posts (`buildFiles`: report JSON, file name, gzip) and sends the gzips back as
 * one transferred buffer. Says `ready` once loaded, so the pool can tell a worker that could not
 * start (build in-process instead) from one that died at work (fail its batches).
 */
import { parentPort } from 'node:worker_threads';
import { buildFiles, type FileJob } from './report-files.js';

parentPort!.on('message', (m: { id: number; jobs: FileJob[] }) => {
  let out;
  try {
    out = buildFiles(m.jobs);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error)?.message ?? String(e) });
    return;
  }
  const ab = out.gz.buffer as ArrayBuffer;
  parentPort!.postMessage({ id: m.id, results: out.results, gz: ab, gzOffset: out.gz.byteOffset, gzBytes: out.gz.length }, [ab]);
});
parentPort!.postMessage({ ready: true });

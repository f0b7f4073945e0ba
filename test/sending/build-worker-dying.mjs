// Test double of src/sending/report/build-worker.mjs: the real report build worker, except that, once it
// is ready, it dies (exit code 3) while building the first chunk with a job for a report domain
// matching `workerData.dieOn` (it has taken the chunk's flag, so the chunk is lost with it), once
// per `workerData.marker` file: a new worker, or a retry of the same batch, builds it.
import { existsSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

const dieOn = new RegExp(workerData.dieOn);
// The real worker's message listener, wrapped: a MessagePort has no prependListener.
const on = parentPort.on.bind(parentPort);
parentPort.on = (event, listener) => on(event, event !== 'message' ? listener : (m) => {
  // m.jobs is packed (packJobs): strings and numbers, the report domain among them.
  if (m.jobs?.some((v) => typeof v === 'string' && dieOn.test(v)) && !existsSync(workerData.marker)
    && Atomics.compareExchange(new Int32Array(m.flags), m.index, 0, 1) === 0) {
    writeFileSync(workerData.marker, '');
    process.exit(3);
  }
  listener(m);
});
register();
await import('../../src/sending/report/build-worker.ts');

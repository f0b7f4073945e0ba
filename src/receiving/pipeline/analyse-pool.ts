/**
 * @module receiving/pipeline/analyse-pool — worker threads for the CPU-heavy half of the
 * ingestion pipeline (extract, parse, DKIM verification), so a batch import uses every core
 * while the main thread does the store work. Plugs into `createIngestor({ analyse })`; the
 * pipeline's decisions stay in the main thread. A worker that dies is replaced; its jobs fail
 * (the pipeline turns that into a 'failed' outcome, never a crash).
 */
import { Worker } from 'node:worker_threads';
import type { Analysis } from './ingest.js';
import type { ExtractLimits } from '../extract/index.js';
import { workerScript } from '../../common/worker-script.js';

export interface AnalysePool {
  /** `limits` (else the pool's own `limits()`) bound this input's extraction. */
  analyse(bytes: Uint8Array, limits?: Partial<ExtractLimits>): Promise<Analysis>;
  close(): Promise<void>;
}

export interface AnalysePoolOptions {
  threads: number;
  dnsServers?: string[];
  limits?: () => Partial<ExtractLimits>;
}

interface Pending { resolve(a: Analysis): void; reject(e: Error): void; partial?: Analysis }
/** What a worker sends: an analysis (`paced`: large reports' policies follow, slice by slice), a slice, or an error. */
interface Reply { id: number; analysis?: Analysis; paced?: boolean; slice?: { payload: number; policies: unknown[] }; done?: boolean; error?: string }
interface Slot { worker: Worker; jobs: Map<number, Pending> }

/**
 * @example
 * const pool = createAnalysePool({ threads: 2, dnsServers: config.dns?.servers });
 * const ingestor = createIngestor({ store, log, analyse: pool.analyse });
 */
export function createAnalysePool(opts: AnalysePoolOptions): AnalysePool {
  let nextId = 0;
  let closed = false;
  const slots: Slot[] = [];
  const spawn = (index: number) => {
    const worker = new Worker(workerScript('analyse-worker', import.meta.url), { workerData: { dnsServers: opts.dnsServers } });
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (m: Reply) => {
      const p = slot.jobs.get(m.id);
      if (!p) return;
      if (m.analysis && m.paced) {
        // The policies of a large report come on request, a slice per turn of the loop (analyse-worker.ts).
        p.partial = m.analysis;
        worker.postMessage({ id: m.id, more: true });
        return;
      }
      if (m.slice && p.partial) {
        const target = p.partial.ok ? p.partial.payloads[m.slice.payload]?.parsed : undefined;
        if (target && 'report' in target) target.report.policies.push(...(m.slice.policies as typeof target.report.policies));
        if (!m.done) {
          worker.postMessage({ id: m.id, more: true });
          return;
        }
        slot.jobs.delete(m.id);
        p.resolve(p.partial);
        return;
      }
      slot.jobs.delete(m.id);
      if (m.analysis) p.resolve(m.analysis);
      else p.reject(new Error(`analysis failed: ${m.error}`));
    });
    const fail = (why: string) => {
      for (const p of slot.jobs.values()) p.reject(new Error(`analysis worker ${why}`));
      slot.jobs.clear();
      if (!closed && slots[index] === slot) spawn(index);
    };
    worker.on('error', (e) => fail(`crashed: ${e.message}`));
    worker.on('exit', (code) => { if (!closed) fail(`exited with code ${code}`); });
    worker.unref();
    slots[index] = slot;
  };
  for (let i = 0; i < Math.max(1, opts.threads); i++) spawn(i);

  return {
    analyse(bytes, limits) {
      if (closed) return Promise.reject(new Error('the analysis pool is closed'));
      // The least busy worker takes the job: inputs differ a lot in size.
      const slot = slots.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
      const id = ++nextId;
      return new Promise<Analysis>((resolve, reject) => {
        slot.jobs.set(id, { resolve, reject });
        slot.worker.ref();
        const done = () => { if (!slot.jobs.size) slot.worker.unref(); };
        const p = slot.jobs.get(id)!;
        slot.jobs.set(id, { resolve: (a) => { p.resolve(a); done(); }, reject: (e) => { p.reject(e); done(); } });
        slot.worker.postMessage({ id, bytes, limits: limits ?? opts.limits?.() });
      });
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/**
 * @module receiving/pipeline/analyse-worker — the worker-thread side of `analyse-pool.ts`: runs
 * `analyseInput` (extract, parse, DKIM signatures) for the main thread, with its own DNS
 * resolver (DKIM keys, cached) built from the servers the pool passes in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createResolver, mailauthResolver } from '../../dns/index.js';
import { cachingResolver } from '../dkim/verify.js';
import { analyseInput, type Analysis } from './ingest.js';
import type { ExtractLimits } from '../extract/index.js';

interface Job { id: number; bytes: Uint8Array; limits?: Partial<ExtractLimits>; nowMs?: number }

const { dnsServers } = workerData as { dnsServers?: string[] };
const resolver = cachingResolver(mailauthResolver(createResolver(dnsServers?.length ? { servers: dnsServers } : {})));

parentPort!.on('message', (job: Job) => {
  analyseInput(job.bytes, { limits: job.limits, resolver, ...(job.nowMs ? { now: new Date(job.nowMs) } : {}) })
    .then((analysis: Analysis) => {
      // The payload bytes (and the packed forms of a large report) go back without a copy.
      const buffers = analysis.ok
        ? analysis.payloads.flatMap((p) => {
          const packed = 'forms' in p.parsed ? p.parsed.forms.packed : undefined;
          return [p.json, ...(packed ? [packed.reportJsonGz, packed.payloadGz, ...(packed.rawGz ? [packed.rawGz] : [])] : [])].map((b) => b.buffer as ArrayBuffer);
        })
        : [];
      const transfer = buffers.filter((b, i, a) => a.indexOf(b) === i && b !== job.bytes.buffer);
      try {
        parentPort!.postMessage({ id: job.id, analysis }, transfer);
      } catch {
        parentPort!.postMessage({ id: job.id, analysis });
      }
    })
    .catch((e: unknown) => parentPort!.postMessage({ id: job.id, error: (e as Error)?.message ?? String(e) }));
});

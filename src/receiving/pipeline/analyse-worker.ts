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
/** The main thread asks for the next policies of a large report (see analyse-pool.ts). */
interface More { id: number; more: true }

/** Policies of the large reports of a job, still to send: [payload index, policies]. */
const held = new Map<number, [number, unknown[]][]>();

/** Policies per message: 100 of them with 20 details each take ~2 ms to clone in. */
const POLICIES_PER_SLICE = 100;

const { dnsServers } = workerData as { dnsServers?: string[] };
const resolver = cachingResolver(mailauthResolver(createResolver(dnsServers?.length ? { servers: dnsServers } : {})));

parentPort!.on('message', (m: Job | More) => {
  if ('more' in m) return sendMore(m.id);
  const job = m;
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
      const paced = holdLargeReports(job.id, analysis);
      try {
        parentPort!.postMessage({ id: job.id, analysis, paced }, transfer);
      } catch {
        parentPort!.postMessage({ id: job.id, analysis, paced });
      }
    })
    .catch((e: unknown) => parentPort!.postMessage({ id: job.id, error: (e as Error)?.message ?? String(e) }));
});

/**
 * A report of thousands of policies goes back a slice at a time, each slice when the main thread
 * asks: cloned in one message, 2,000 policies x 20 details were 40,000 objects for the main thread
 * to build in one go (with the collections that allocation triggers), ~50 ms during which /healthz
 * waited (bench/abuse). Sent on request, each slice is taken in on its own turn of the loop.
 */
function holdLargeReports(id: number, analysis: Analysis): boolean {
  if (!analysis.ok) return false;
  const rest: [number, unknown[]][] = [];
  analysis.payloads.forEach((p, i) => {
    if (!('report' in p.parsed) || p.parsed.report.policies.length <= POLICIES_PER_SLICE) return;
    rest.push([i, p.parsed.report.policies]);
    p.parsed.report.policies = [];
  });
  if (rest.length) held.set(id, rest);
  return rest.length > 0;
}

function sendMore(id: number): void {
  const rest = held.get(id);
  const next = rest?.[0];
  if (!rest || !next) return void parentPort!.postMessage({ id, slice: { payload: -1, policies: [] }, done: true });
  const [payload, policies] = next;
  const slice = policies.splice(0, POLICIES_PER_SLICE);
  if (!policies.length) rest.shift();
  if (!rest.length) held.delete(id);
  parentPort!.postMessage({ id, slice: { payload, policies: slice }, done: !rest.length });
}

/**
 * @module receiving/sources/import — `tlsrpt import` without the terminal: walks the inputs
 * (files, folders, maildirs, mbox) and feeds them to the ingestion pipeline with a bounded
 * number in flight, so memory stays flat however many files there are; returns the counts.
 */
import type { Ingestor, IngestOutcome, IngestStatus } from '../pipeline/ingest.js';
import { walkInputs } from './files.js';

export interface ImportProblem { source: string; status: IngestStatus; code?: string; reason?: string }

export interface ImportSummary {
  /** Inputs read: files and mbox messages. */
  inputs: number;
  counts: Record<IngestStatus, number>;
  /** Every outcome other than imported/duplicate, up to `maxProblems`. */
  problems: ImportProblem[];
  seconds: number;
}

export interface ImportOptions {
  ingestor: Ingestor;
  maxInputBytes: number;
  /** Inputs processed at the same time (default 32): overlaps reads, DNS and analysis, and lets store writes share a transaction. */
  concurrency?: number;
  /** Bytes of input held at once across everything in flight (default 64 MiB): memory stays bounded even with large inputs. */
  maxBytesInFlight?: number;
  maxProblems?: number;
  /** Called after each input (files and mbox messages) with the running summary. */
  onInput?: (source: string, outcomes: IngestOutcome[], summary: ImportSummary) => void;
  /** Clock in epoch seconds (receivedAt). */
  now?: () => number;
}

/**
 * @example
 * const summary = await importPaths(['/var/mail/reports'], { ingestor, maxInputBytes: 50 * 1024 * 1024 });
 * console.log(summary.counts.imported);
 */
export async function importPaths(paths: readonly string[], opts: ImportOptions): Promise<ImportSummary> {
  const started = process.hrtime.bigint();
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const maxProblems = opts.maxProblems ?? 1000;
  const summary: ImportSummary = { inputs: 0, counts: { imported: 0, duplicate: 0, 'not-a-report': 0, rejected: 0, failed: 0 }, problems: [], seconds: 0 };
  const record = (source: string, outcomes: IngestOutcome[]) => {
    summary.inputs++;
    for (const o of outcomes) {
      summary.counts[o.status]++;
      if (o.status !== 'imported' && o.status !== 'duplicate' && summary.problems.length < maxProblems) {
        summary.problems.push({ source: o.part ? `${source}: ${o.part}` : source, status: o.status, ...(o.code ? { code: o.code } : {}), ...(o.reason ? { reason: o.reason } : {}) });
      }
    }
    opts.onInput?.(source, outcomes, summary);
  };

  const inputs = walkInputs(paths, { maxInputBytes: opts.maxInputBytes });
  const budget = opts.maxBytesInFlight ?? 64 * 1024 * 1024;
  let bytesInFlight = 0;
  const waiting: (() => void)[] = [];
  const acquire = async (n: number) => {
    // One input is always allowed, however large (it is within maxInputBytes already).
    while (bytesInFlight > 0 && bytesInFlight + n > budget) await new Promise<void>((r) => waiting.push(r));
    bytesInFlight += n;
  };
  const release = (n: number) => {
    bytesInFlight -= n;
    waiting.splice(0).forEach((w) => w());
  };
  // Workers pull from one generator; an async generator serialises next() calls itself.
  const worker = async () => {
    for (;;) {
      const next = await inputs.next();
      if (next.done) return;
      const item = next.value;
      if (item.kind === 'problem') {
        record(item.source, [{ status: item.status, code: item.code, reason: item.reason }]);
        continue;
      }
      const size = item.bytes.byteLength;
      await acquire(size);
      try {
        const outcomes = await opts.ingestor.ingest(item.bytes, { channel: 'file', peer: item.source, source: item.source, receivedAt: now() });
        record(item.source, outcomes);
      } finally {
        release(size);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 32) }, worker));
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

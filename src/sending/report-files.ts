/**
 * @module sending/report-files — the CPU half of building a batch of reports: the stored
 * counters (JSON text as read) become report JSON, §5.1 file name and gzip. Pure (no store, no
 * settings, no DNS): the scheduler runs it in its build worker (sending/build-pool) or, when no
 * worker can run, in-process; both give the same bytes because both run this code.
 */
import { gzipSync } from 'node:zlib';
import type { FailureDetail, Policy } from '../rfc8460/types.js';
import { finishReport, type ReportHeading, type WindowPolicyCounts } from './report-builder.js';

/**
 * One policy of a window as stored: `policyJson` is `outbound_policy.policy_json`; `details` the
 * window's failure rows as `[count,detail_json]` joined by commas (null when there are none),
 * so a policy's details cost one JSON.parse wherever they are parsed.
 */
export interface PolicySource {
  policyJson: string;
  successful: number;
  failed: number;
  details: string | null;
}

/** One report to build: its window, the stored counters and the heading evaluated from the settings. */
export interface FileJob {
  policyDomain: string;
  windowStart: number;
  windowEnd: number;
  heading: ReportHeading;
  policies: PolicySource[];
}

/** What the scheduler stores and logs of a built report (the JSON itself is only kept gzipped). */
export interface FileResult {
  jsonBytes: number;
  /** Length of this report's gzip in `FileBatch.gz` (the reports' gzips follow each other in job order). */
  gzBytes: number;
  fileName: string;
  trimmedDetails: number;
  overLimit: boolean;
}

/**
 * A built batch. The gzips are one buffer (one transfer from a worker, no per-report copy)
 * of its own, never a slice of Node's shared allocation pool, so it can be transferred.
 */
export interface FileBatch {
  results: FileResult[];
  gz: Buffer;
}

/**
 * RFC 8460 §5.2 gzip. A report smaller than zlib's 32 KB window compresses the same with a
 * window just larger than itself, and zlib's setup (most of the cost for a 2 KB report) shrinks
 * with the window and memory level. The output chunk is sized to the report too: zlib's
 * default 16 KB chunk would be allocated (and kept alive by the result) for a 600-byte gzip.
 */
export function gzipReport(json: string | Buffer): Buffer {
  const n = typeof json === 'string' ? Buffer.byteLength(json) : json.length;
  if (n >= 16384) return gzipSync(json);
  const windowBits = Math.max(9, Math.ceil(Math.log2(n + 262)));
  return gzipSync(json, { windowBits, memLevel: Math.max(1, windowBits - 7), chunkSize: Math.max(64, n >> 1) });
}

/** The stored policy rows of a window as the report builder takes them. */
export function parsePolicies(policies: PolicySource[]): WindowPolicyCounts[] {
  return policies.map((p) => ({
    policy: JSON.parse(p.policyJson) as Policy,
    successful: p.successful,
    failed: p.failed,
    failureDetails: p.details === null ? [] : (JSON.parse(`[${p.details}]`) as [number, Omit<FailureDetail, 'failedSessionCount'>][])
      .map(([count, d]) => ({ ...d, failedSessionCount: Number(count) })),
  }));
}

/** Builds every report of a batch, in job order. Throws if any one cannot be built (the batch is retried). */
export function buildFiles(jobs: FileJob[]): FileBatch {
  const results: FileResult[] = new Array(jobs.length);
  const gzs: Buffer[] = new Array(jobs.length);
  let total = 0;
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    const built = finishReport({ policyDomain: j.policyDomain, windowStart: j.windowStart, windowEnd: j.windowEnd, policies: parsePolicies(j.policies) }, j.heading);
    const bytes = Buffer.from(built.json);
    const gz = gzipReport(bytes);
    gzs[i] = gz;
    total += gz.length;
    results[i] = { jsonBytes: bytes.length, gzBytes: gz.length, fileName: built.fileName, trimmedDetails: built.trimmedDetails, overLimit: built.overLimit };
  }
  // allocUnsafeSlow: never a slice of the shared pool, which a transfer would take from this thread.
  const gz = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const g of gzs) at += g.copy(gz, at);
  return { results, gz };
}

/**
 * @module sending/report/report-files — the CPU half of building a batch of reports: the stored
 * counters (JSON text as read) become report JSON, §5.1 file name and gzip. Pure (no store, no
 * settings, no DNS): the build worker (sending/build-pool) runs it, and so does the main thread
 * for the chunks it takes over or when no worker can run; both give the same bytes because both
 * run this code.
 */
import { gzipSync } from 'node:zlib';
import type { FailureDetail, Policy } from '../../rfc8460/types.js';
import { finishReport, type ReportHeading, type WindowPolicyCounts } from './report-builder.js';

/**
 * One policy of a window as stored: `policyJson` is `outbound_policy.policy_json`; `details` the
 * policy's failure rows as `[count,detail_json]` joined by commas (null when there are none),
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
  reportDomain: string;
  windowStart: number;
  windowEnd: number;
  heading: ReportHeading;
  policies: PolicySource[];
}

/** What the scheduler stores and logs of a built report (the JSON itself is only kept gzipped). */
export interface FileResult {
  jsonBytes: number;
  gz: Buffer;
  fileName: string;
  trimmedDetails: number;
  overLimit: boolean;
}

/**
 * Built reports for a transfer between threads: the gzips in one buffer of their own (one
 * transfer, no per-report copy; never a slice of Node's shared allocation pool, which a
 * transfer would take from the sending thread), each result saying how many bytes are its.
 */
export interface PackedFiles {
  results: (Omit<FileResult, 'gz'> & { gzBytes: number })[];
  gz: ArrayBuffer;
}

/**
 * Jobs flattened for a message to another thread: strings and numbers in one array. The
 * structured clone writes every key of every object; flat, a chunk of 50 jobs costs a quarter.
 */
export type PackedJobs = (string | number | null)[];

/** Flattens jobs for a message: per job its fields, then per policy its four. */
export function packJobs(jobs: FileJob[]): PackedJobs {
  const out: PackedJobs = [];
  for (const j of jobs) {
    const h = j.heading;
    out.push(j.reportDomain, j.windowStart, j.windowEnd, h.reportId, h.uniqueId, h.orgName, h.contactInfo, h.maxReportSize, h.submitter, j.policies.length);
    for (const p of j.policies) out.push(p.policyJson, p.successful, p.failed, p.details);
  }
  return out;
}

/** The jobs `packJobs` flattened. */
export function unpackJobs(packed: PackedJobs): FileJob[] {
  const jobs: FileJob[] = [];
  // The layout is `packJobs`'s own; one cast at the read keeps the field list below typed by FileJob.
  const v = (k: number): never => packed[k] as never;
  for (let i = 0; i < packed.length;) {
    const job: FileJob = {
      reportDomain: v(i), windowStart: v(i + 1), windowEnd: v(i + 2),
      heading: { reportId: v(i + 3), uniqueId: v(i + 4), orgName: v(i + 5), contactInfo: v(i + 6), maxReportSize: v(i + 7), submitter: v(i + 8) },
      policies: new Array(v(i + 9)),
    };
    i += 10;
    for (let k = 0; k < job.policies.length; k++, i += 4) job.policies[k] = { policyJson: v(i), successful: v(i + 1), failed: v(i + 2), details: v(i + 3) };
    jobs.push(job);
  }
  return jobs;
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
    failureDetails: p.details === null ? [] : (JSON.parse(`[${p.details}]`) as [number, FailureDetail][]).map(([count, d]) => {
      // The parsed object is ours: set the count on it (last key, or in place, as a spread would).
      d.failedSessionCount = Number(count);
      return d;
    }),
  }));
}

/** Builds every report of a batch, in job order. Throws if any one cannot be built (the batch is retried). */
export function buildFiles(jobs: FileJob[]): FileResult[] {
  return jobs.map((j) => {
    const built = finishReport({ reportDomain: j.reportDomain, windowStart: j.windowStart, windowEnd: j.windowEnd, policies: parsePolicies(j.policies) }, j.heading);
    const bytes = Buffer.from(built.json);
    return { jsonBytes: bytes.length, gz: gzipReport(bytes), fileName: built.fileName, trimmedDetails: built.trimmedDetails, overLimit: built.overLimit };
  });
}

/** `buildFiles` results ready to transfer to another thread. */
export function packFiles(files: FileResult[]): PackedFiles {
  let total = 0;
  for (const f of files) total += f.gz.length;
  const gz = Buffer.allocUnsafeSlow(total);
  let at = 0;
  const results = files.map(({ gz: g, ...rest }) => {
    at += g.copy(gz, at);
    return { ...rest, gzBytes: g.length };
  });
  return { results, gz: gz.buffer as ArrayBuffer };
}

/** The results of `packFiles`, each with a view of its own gzip (no copy). */
export function unpackFiles(packed: PackedFiles): FileResult[] {
  let at = 0;
  return packed.results.map(({ gzBytes, ...rest }) => {
    const gz = Buffer.from(packed.gz, at, gzBytes);
    at += gzBytes;
    return { ...rest, gz };
  });
}

/** @module sending/schedule/types — what the scheduler's stages (close, claim, prepare, store) share: deps, batch shapes, limits. */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Resolver, TlsrptLookup, TtlCache } from '../../dns/index.js';
import type { Discovery } from '../report/discovery.js';
import type { BuildPool } from '../report/build-pool.js';
import type { FileResult } from '../report/report-files.js';
import type { DeliveryQueue, SendingContext, TargetAttempt } from '../deliver/queue.js';

export interface SchedulerDeps extends SendingContext {
  resolver: Resolver;
  tlsrptCache?: TtlCache<TlsrptLookup>;
  queue: DeliveryQueue;
  /** Reports are sent up to this many seconds after their window closed (0 = at once). */
  spreadSeconds: number;
  /** Longest sleep between ticks, seconds (default 30). */
  maxSleepSeconds?: number;
  /**
   * Builds the reports' JSON and gzip. Default: a worker thread of this scheduler's own, started
   * when a build has a full batch to do (a few reports are built in-process, no thread to
   * start) and ended by stop(). Given here, it is used for every batch and left to its owner.
   */
  buildPool?: BuildPool;
}

/** What one build did, for logs and `outbound send` output. */
export interface BuildOutcome {
  reportRowId: number;
  reportDomain: string;
  windowStart: number;
  state: 'pending' | 'dropped' | 'skipped' | 'deferred';
  reportId?: string;
  targets?: string[];
  reason?: string;
}

/** `builtCount`: reports built (state pending); `built`: the outcomes kept (see BuildOptions.keepBuilt). */
export interface TickResult { closed: number; built: BuildOutcome[]; builtCount: number; attempts: TargetAttempt[] }

export interface BuildOptions {
  /** Close every open window and build at once, not only what is due. */
  force?: boolean;
  /** Default true. false: the outcomes of built reports are counted, not kept (the others always are). */
  keepBuilt?: boolean;
}

/** A claim name unique to this process. */
export function newNodeId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export const BATCH = 500;
/** Windows closed per transaction: closing is a few cheap statements a batch, so the batch is larger. */
export const CLOSE_BATCH = 2000;
export const LOOKUP_CONCURRENCY = 16;

export interface ClaimedReport { id: number; windowId: number; reportDomain: string; windowStart: number; windowEnd: number; dueAt: number; createdAt: number }

/** One report's build result, written with its batch. */
export interface Built {
  outcome: BuildOutcome;
  finish?: { state: 'dropped' | 'skipped'; reason: string; record_source?: string | null };
  defer?: string;
  pending?: {
    report_id: string; json_bytes: number; gz: Buffer; file_name: string; record_source: string; tlsrpt_record: string; trimmed_details: number;
    targets: { uri: string; scheme: string }[];
  };
  dueAt?: number;
}

/** A claimed batch on its way through the pipeline. */
export interface Batch {
  rows: ClaimedReport[];
  /** The clock when it was claimed: a failed batch is retried DNS_RETRY_SECONDS after. */
  now: number;
  /** Per row; the reports to build get theirs when their files arrive. */
  results: Built[];
  /** The reports to build, in the order of their jobs (which are not kept: they hold the counters' text). */
  toBuild: { i: number; found: Extract<Discovery, { kind: 'ok' }>; reportId: string }[];
  files?: Promise<FileResult[]>;
  /** Who builds the files (and, waiting for them, helps). */
  builder?: BuildPool;
  /** Preparing it failed: it is released when its turn to be stored comes. */
  error?: Error;
}

export const outcome = (r: ClaimedReport, state: BuildOutcome['state'], reason?: string): BuildOutcome =>
  ({ reportRowId: r.id, reportDomain: r.reportDomain, windowStart: r.windowStart, state, ...(reason ? { reason } : {}) });
/** A report whose record lookup keeps failing for a day is given up (the data is a day old). */
export const BUILD_GIVE_UP_SECONDS = 86400;
export const DNS_RETRY_SECONDS = 300;

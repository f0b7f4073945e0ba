/**
 * @module sending/schedule/scheduler — closes reporting windows at their UTC end, builds each window's
 * report (discovery + builder) and hands it to the delivery queue after a random delay
 * (`delivery.spreadSeconds`), so receivers are not hit all at once (RFC 8460 §4.1).
 *
 * Several processes may run this on one database (nodes on PostgreSQL; `serve` and a CLI
 * `outbound send` on SQLite): closing a window, building its report and sending to a target
 * each happen under a claim only one process can hold. A process that was down closes the
 * overdue windows when it comes back. Every write goes through the collector's
 * `writeTransaction` (SQLite: BEGIN IMMEDIATE acquired without blocking the event loop).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { CompiledQuery } from '../../store/kysely.js';
import type { Logger } from '../../common/log.js';
import type { Store, StoreKind } from '../../store/index.js';
import type { Resolver, TlsrptLookup, TtlCache } from '../../dns/index.js';
import { readWindowPolicies, type PolicyRow } from '../report/window-batch.js';
import { writeTransaction } from '../collect/aggregate.js';
import { bulkInsert, type BulkColumn } from '../../store/bulk-insert.js';
import { reportHeading } from '../report/report-builder.js';
import { discoverRuaTargets, type Discovery } from '../deliver/discovery.js';
import { createBuildPool, inProcessBuilder, type BuildPool } from '../report/build-pool.js';
import type { FileJob, FileResult } from '../report/report-files.js';
import type { ReportSettingsSource } from '../report/settings-view.js';
import type { DeliveryQueue, TargetAttempt } from '../deliver/queue.js';
import { deliveryMetrics } from '../deliver/metrics.js';

export interface SchedulerDeps {
  store: Store;
  log: Logger;
  /** Epoch seconds (injected: tests move time). */
  clock: () => number;
  /** Uniform in [0, 1): the send spread. */
  random: () => number;
  nodeId: string;
  settings: ReportSettingsSource;
  resolver: Resolver;
  tlsrptCache?: TtlCache<TlsrptLookup>;
  queue: DeliveryQueue;
  /** Reports are sent up to this many seconds after their window closed (0 = at once). */
  spreadSeconds: number;
  leaseSeconds?: number;
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
  policyDomain: string;
  windowStart: number;
  state: 'pending' | 'dropped' | 'skipped' | 'deferred';
  reportId?: string;
  targets?: string[];
  reason?: string;
}

export interface TickResult { closed: number; built: BuildOutcome[]; attempts: TargetAttempt[] }

/** A claim name unique to this process. */
export function newNodeId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

const BATCH = 500;
/** Windows closed per transaction: closing is a few cheap statements a batch, so the batch is larger. */
const CLOSE_BATCH = 2000;
const LOOKUP_CONCURRENCY = 16;

interface ClaimedReport { id: number; windowId: number; policyDomain: string; windowStart: number; windowEnd: number; dueAt: number; createdAt: number }

/** One report's build result, written with its batch. */
interface Built {
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
interface Batch {
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

/**
 * Rows per multi-row statement of the store step: 15 parameters a built report, well inside
 * SQLite's 32,766 and PostgreSQL's 65,535 parameters a statement.
 */
const MULTI_ROW = BATCH;

/** `(?, ?, …), (…)` (PostgreSQL: `($1, $2, …)`): `rows` tuples of `cols` parameters, each followed by `tail`. */
function tuples(kind: StoreKind, rows: number, cols: number, tail = ''): string {
  const out: string[] = new Array(rows);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const ps: string[] = new Array(cols);
    for (let c = 0; c < cols; c++) ps[c] = kind === 'postgres' ? `$${++n}` : '?';
    out[r] = `(${ps.join(', ')}${tail})`;
  }
  return out.join(', ');
}

/**
 * Upsert of built reports onto their rows while this node's claim holds: 15 parameters a row,
 * then the node id. (Not `bulkInsert`: `gz` is bytes, which PostgreSQL's JSON path cannot carry,
 * and the claim check takes a parameter.) The text of a full batch is kept per dialect, so
 * SQLite reuses its prepared statement; a short batch (the last of a run) builds its own.
 */
const upsertTexts = new Map<StoreKind, string>();
function upsertBuiltSql(kind: StoreKind, rows: number): string {
  const full = rows === MULTI_ROW ? upsertTexts.get(kind) : undefined;
  if (full) return full;
  const text = 'insert into outbound_report (id, window_id, policy_domain, window_start, window_end, created_at, '
    + 'report_id, json_bytes, gz, file_name, record_source, tlsrpt_record, trimmed_details, built_at, due_at, state, reason, claimed_by, claimed_until) '
    + `values ${tuples(kind, rows, 15, ", 'pending', null, null, 0")} `
    + 'on conflict (id) do update set state = excluded.state, report_id = excluded.report_id, json_bytes = excluded.json_bytes, gz = excluded.gz, '
    + 'file_name = excluded.file_name, record_source = excluded.record_source, tlsrpt_record = excluded.tlsrpt_record, '
    + 'trimmed_details = excluded.trimmed_details, built_at = excluded.built_at, due_at = excluded.due_at, reason = excluded.reason, '
    + 'claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until '
    + `where outbound_report.claimed_by = ${kind === 'postgres' ? `$${rows * 15 + 1}` : '?'} and outbound_report.state = 'building' returning id`;
  if (rows === MULTI_ROW) upsertTexts.set(kind, text);
  return text;
}

/** The report rows of closed windows (state 'building'), claimed by the closing node: 18,000 SQLite parameters for CLOSE_BATCH. */
const REPORT_ROW_COLS: BulkColumn[] = [
  ['window_id', 'int'], ['policy_domain', 'text'], ['window_start', 'int'], ['window_end', 'int'], ['due_at', 'int'], ['created_at', 'int'],
  ['claimed_by', 'text'], ['claimed_until', 'int'], ['state', 'text'],
];
/** A report's targets, pending from its due time. */
const TARGET_COLS: BulkColumn[] = [['outbound_report_id', 'int'], ['uri', 'text'], ['scheme', 'text'], ['next_attempt_at', 'int'], ['state', 'text']];

const outcome = (r: ClaimedReport, state: BuildOutcome['state'], reason?: string): BuildOutcome =>
  ({ reportRowId: r.id, policyDomain: r.policyDomain, windowStart: r.windowStart, state, ...(reason ? { reason } : {}) });
/** A report whose record lookup keeps failing for a day is given up (the data is a day old). */
const BUILD_GIVE_UP_SECONDS = 86400;
const DNS_RETRY_SECONDS = 300;

export class ReportScheduler {
  private readonly lease: number;
  private running: Promise<TickResult> | undefined;
  /** The build worker this scheduler started (none until a build has a full batch). */
  private pool: BuildPool | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(private readonly deps: SchedulerDeps) {
    this.lease = deps.leaseSeconds ?? 600;
  }

  /**
   * One pass: close due windows (with `force`: every open window), build the claimed reports,
   * deliver due targets (with `force`: every pending or retrying target). Calls never overlap
   * within a process.
   */
  async tick(opts: { force?: boolean } = {}): Promise<TickResult> {
    while (this.running) await this.running.catch(() => {});
    this.running = this.runTick(Boolean(opts.force));
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async runTick(force: boolean): Promise<TickResult> {
    const closed = await this.closeDueWindows({ force });
    const built = await this.buildClaimedReports({ force });
    const attempts = await this.deps.queue.runDue({ force });
    return { closed, built, attempts };
  }

  /** Closes windows whose UTC end has passed and creates their report rows, claimed by this process. */
  async closeDueWindows(opts: { force?: boolean } = {}): Promise<number> {
    const { store, nodeId } = this.deps;
    let total = 0;
    for (;;) {
      const now = this.deps.clock();
      const closedNow = await writeTransaction(store, async (trx) => {
        const due = trx.selectFrom('outbound_window').select('id')
          .where('state', '=', 'open')
          .$if(!opts.force, (q) => q.where('window_end', '<=', now))
          // Oldest first, straight from the (state, window_end) index: a tie-break on id would
          // sort every window of the day for each batch.
          .orderBy('window_end')
          .limit(CLOSE_BATCH)
          // A collector flush holds the row FOR SHARE while it counts into it; skip such a
          // window now and close it on the next tick, after the flush committed.
          .$if(store.kind === 'postgres', (q) => q.forUpdate().skipLocked());
        // A materialized CTE: PostgreSQL runs it once. As `IN (subquery)` it may rescan the
        // subquery for every row it updates, each rescan skipping the rows already updated and
        // locking the next CLOSE_BATCH, so one statement took every due window.
        const rows = await trx.with((w) => w('due').materialized(), () => due).updateTable('outbound_window')
          .set({ state: 'closed', closed_at: now })
          .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
          // PostgreSQL: re-checked on the locked row. SQLite: the CTE saw the same rows in the
          // same statement, and the check would make it walk the (state, …) index over every
          // open window for each batch instead of looking up the batch's ids.
          .$if(store.kind === 'postgres', (q) => q.where('state', '=', 'open'))
          .returning(['id', 'policy_domain', 'window_start', 'window_end'])
          .execute();
        if (rows.length === 0) return 0;
        const spread = opts.force ? 0 : this.deps.spreadSeconds;
        const reportRows = rows.map((w) => [
          Number(w.id), w.policy_domain, Number(w.window_start), Number(w.window_end), now + Math.floor(this.deps.random() * (spread + 1)), now, nodeId, now + this.lease, 'building',
        ]);
        await trx.executeQuery(bulkInsert(store.kind, 'outbound_report', REPORT_ROW_COLS, reportRows, 'on conflict (window_id) do nothing'));
        return rows.length;
      });
      total += closedNow;
      if (closedNow < CLOSE_BATCH) break;
    }
    if (total) this.deps.log.info({ windows: total }, 'reporting windows closed');
    return total;
  }

  /**
   * Builds every report this process holds (or whose builder's claim ran out): discovery, JSON,
   * targets. Works in batches: one claim, one read of the batch's counters, record lookups a few
   * at a time, one write transaction for the batch's results. Pipelined: while the build pool
   * turns batch N into JSON and gzip, this thread claims and reads batch N+1 and stores batch N-1.
   */
  async buildClaimedReports(opts: { force?: boolean } = {}): Promise<BuildOutcome[]> {
    const out: BuildOutcome[] = [];
    const deferred = new Set<number>();
    let inFlight: Batch | undefined;
    const settle = async (b: Batch) => {
      for (const r of await this.finishBatch(b)) {
        if (r.state === 'deferred') deferred.add(r.reportRowId);
        out.push(r);
      }
    };
    for (;;) {
      const now = this.deps.clock();
      // The batch being built is still 'building' and claimed by us: it must not be claimed again.
      const claimed = await this.claim(now, inFlight ? [...deferred, ...inFlight.rows.map((r) => r.id)] : [...deferred]);
      if (claimed.length === 0) break;
      const rows = claimed.map((r) => ({
        id: Number(r.id), windowId: Number(r.window_id), policyDomain: r.policy_domain, windowStart: Number(r.window_start),
        windowEnd: Number(r.window_end), dueAt: opts.force ? Math.min(now, Number(r.due_at)) : Number(r.due_at), createdAt: Number(r.created_at),
      }));
      const batch: Batch = { rows, now, results: new Array(rows.length), toBuild: [] };
      try {
        const jobs = await this.prepareBatch(batch);
        if (jobs.length) {
          batch.builder = this.builder(rows.length === BATCH);
          batch.files = batch.builder.build(jobs);
          // Awaited in finishBatch; until then a rejection must not count as unhandled.
          batch.files.catch(() => {});
        }
      } catch (e) {
        batch.error = e as Error;
      }
      if (inFlight) await settle(inFlight);
      inFlight = batch;
      if (claimed.length < BATCH) break;
    }
    if (inFlight) await settle(inFlight);
    return out;
  }

  /** Claims up to BATCH reports still to build: ours, or any whose builder's claim ran out. */
  private async claim(now: number, exclude: number[]) {
    const { store, nodeId } = this.deps;
    const claimable = store.db.selectFrom('outbound_report').select('id')
      .where('state', '=', 'building')
      .where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', nodeId)]))
      .$if(exclude.length > 0, (q) => q.where('id', 'not in', exclude))
      // No ORDER BY: with 100,000 reports building, sorting them all for every batch of 500
      // would cost more than building; any 500 will do.
      .limit(BATCH)
      .$if(store.kind === 'postgres', (q) => q.forUpdate().skipLocked());
    // Materialized, so PostgreSQL claims BATCH rows, not all (see closeDueWindows).
    return writeTransaction(store, (trx) => trx.with((w) => w('claimable').materialized(), () => claimable).updateTable('outbound_report')
      .set({ claimed_by: nodeId, claimed_until: now + this.lease })
      .where('id', 'in', (eb) => eb.selectFrom('claimable').select('claimable.id'))
      // Re-checked on PostgreSQL only, as in closeDueWindows (on SQLite the check would walk
      // every report still building for each batch).
      .$if(store.kind === 'postgres', (q) => q.where('state', '=', 'building')
        .where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', nodeId)])))
      .returning(['id', 'window_id', 'policy_domain', 'window_start', 'window_end', 'due_at', 'created_at'])
      .execute());
  }

  /** The pool for a batch: the injected one; else a worker for full batches, in-process for a few reports. */
  private builder(full: boolean): BuildPool {
    if (this.deps.buildPool) return this.deps.buildPool;
    if (!full) return this.pool ?? inProcessBuilder;
    return (this.pool ??= createBuildPool({ log: this.deps.log }));
  }

  /**
   * Everything of a batch that needs the store, the settings or DNS: the counters, the record
   * lookups (a few at a time: most answers come from the MTA's record or the cache, the rest
   * wait on DNS, not on each other), and each report's heading. What is left to build is pure.
   */
  private async prepareBatch(batch: Batch): Promise<FileJob[]> {
    const { settings } = this.deps;
    const { rows, results } = batch;
    const toRead: number[] = [];
    rows.forEach((r, i) => {
      // settings.md: `never` switches sending off completely — no DNS lookup, no report.
      if (settings.sendFrequency(r.policyDomain) === 'never') {
        deliveryMetrics.windowsDropped.inc({ reason: 'never' });
        results[i] = { finish: { state: 'skipped', reason: 'sendFrequency is never' }, outcome: outcome(r, 'skipped', 'sendFrequency is never') };
      } else toRead.push(i);
    });
    const windows = await readWindowPolicies(this.deps.store, toRead.map((i) => rows[i].windowId));
    const ready: { i: number; found: Extract<Discovery, { kind: 'ok' }> }[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, toRead.length) }, async () => {
      while (next < toRead.length) {
        const i = toRead[next++];
        const r = await this.discover(rows[i], windows.get(rows[i].windowId));
        if ('found' in r) ready.push({ i, found: r.found });
        else results[i] = r;
      }
    }));
    // Headings in row order, so report ids are drawn in the same order whatever DNS answered first.
    ready.sort((a, b) => a.i - b.i);
    const jobs: FileJob[] = [];
    for (const { i, found } of ready) {
      const r = rows[i];
      const { refused, ...heading } = reportHeading(r, settings, this.deps.log);
      for (const f of refused) deliveryMetrics.settingsRefused.inc({ field: f.field });
      batch.toBuild.push({ i, found, reportId: heading.reportId });
      jobs.push({ policyDomain: r.policyDomain, windowStart: r.windowStart, windowEnd: r.windowEnd, heading, policies: windows.get(r.windowId)! });
    }
    return jobs;
  }

  /** Where a window's report goes, or why it has none (dropped, or deferred while DNS fails). */
  private async discover(r: ClaimedReport, policies: PolicyRow[] | undefined): Promise<Built | { found: Extract<Discovery, { kind: 'ok' }> }> {
    const { log } = this.deps;
    const sessions = (policies ?? []).reduce((n, p) => n + p.successful + p.failed, 0);
    if (!policies || sessions === 0) {
      deliveryMetrics.windowsDropped.inc({ reason: 'no-data' });
      return { finish: { state: 'dropped', reason: 'no sessions in the window' }, outcome: outcome(r, 'dropped', 'no sessions in the window') };
    }
    const mtaRecords = new Map<string, number>();
    for (const p of policies) {
      if (p.tlsrptRecord) mtaRecords.set(p.tlsrptRecord, (mtaRecords.get(p.tlsrptRecord) ?? 0) + p.successful + p.failed);
    }
    const found = await discoverRuaTargets(r.policyDomain, [...mtaRecords].map(([record, n]) => ({ record, sessions: n })), {
      resolver: this.deps.resolver, cache: this.deps.tlsrptCache,
    });
    const now = this.deps.clock();
    if (found.kind === 'temporary') {
      if (now - r.createdAt >= BUILD_GIVE_UP_SECONDS) {
        const reason = `TLSRPT record lookup failed for a day: ${found.reason}`;
        deliveryMetrics.windowsDropped.inc({ reason: 'dns-failure' });
        log.warn({ policyDomain: r.policyDomain, sessions, reason }, 'window dropped: no report');
        return { finish: { state: 'dropped', reason }, outcome: outcome(r, 'dropped', reason) };
      }
      log.warn({ policyDomain: r.policyDomain, reason: found.reason }, 'TLSRPT record lookup failed, will retry');
      return { defer: found.reason, outcome: outcome(r, 'deferred', found.reason) };
    }
    if (found.kind === 'none') {
      // RFC 8460 §3: without exactly one valid record there is nowhere to send; the window's
      // data is dropped, and counted so an operator can see how much goes unreported.
      deliveryMetrics.windowsDropped.inc({ reason: 'no-record' });
      log.info({ policyDomain: r.policyDomain, sessions, reason: found.reason }, 'window dropped: no usable TLSRPT record');
      return { finish: { state: 'dropped', reason: found.reason, record_source: found.source }, outcome: outcome(r, 'dropped', found.reason) };
    }
    for (const ig of found.ignored) log.info({ policyDomain: r.policyDomain, uri: ig.uri, reason: ig.reason }, 'rua URI ignored');
    return { found };
  }

  /**
   * Waits for a batch's files and stores its results. A batch that failed anywhere (a bug, a
   * store hiccup, a build worker that died) must not stop the scheduler: its claims are
   * released and it is retried later.
   */
  private async finishBatch(batch: Batch): Promise<BuildOutcome[]> {
    const { rows, results } = batch;
    try {
      if (batch.error) throw batch.error;
      if (batch.files) this.addFiles(batch, await batch.builder!.wait(batch.files));
      await this.store(rows, results);
      return results.map((b) => b.outcome);
    } catch (e) {
      const { store, nodeId } = this.deps;
      this.deps.log.error({ err: e, reports: rows.length }, 'report build failed, will retry');
      await writeTransaction(store, (trx) => trx.updateTable('outbound_report')
        .set({ claimed_by: null, claimed_until: batch.now + DNS_RETRY_SECONDS, reason: String((e as Error).message).slice(0, 500) })
        .where('id', 'in', rows.map((r) => r.id)).where('claimed_by', '=', nodeId).execute());
      return rows.map((r) => ({ reportRowId: r.id, policyDomain: r.policyDomain, windowStart: r.windowStart, state: 'deferred', reason: (e as Error).message }));
    }
  }

  /** The built files into the batch's results: what is stored, logged and counted of each report. */
  private addFiles(batch: Batch, files: FileResult[]): void {
    const { log } = this.deps;
    batch.toBuild.forEach(({ i, found, reportId }, k) => {
      const f = files[k];
      const r = batch.rows[i];
      if (f.trimmedDetails) {
        deliveryMetrics.reportsTrimmed.inc();
        deliveryMetrics.detailsTrimmed.inc(f.trimmedDetails);
        log.warn({ policyDomain: r.policyDomain, reportId, trimmedDetails: f.trimmedDetails, bytes: f.jsonBytes, overLimit: f.overLimit },
          'report trimmed to maxReportSize: smallest failure details dropped, totals kept');
      }
      const targets = found.rua.map((t) => (t.scheme === 'mailto'
        ? { uri: `mailto:${t.address}`, scheme: 'mailto' }
        : { uri: t.url, scheme: 'https' }));
      batch.results[i] = {
        pending: {
          report_id: reportId, json_bytes: f.jsonBytes, gz: f.gz, file_name: f.fileName,
          record_source: found.source, tlsrpt_record: found.record, trimmed_details: f.trimmedDetails, targets,
        },
        outcome: { ...outcome(r, 'pending'), reportId, targets: targets.map((t) => t.uri) },
        dueAt: r.dueAt,
      };
    });
  }

  /**
   * Writes a batch's results in one transaction, each row only while this process still holds
   * its claim. Built reports go in as one multi-row upsert on their existing rows (`ON CONFLICT
   * (id) DO UPDATE … WHERE claimed_by = me`); RETURNING names the rows whose claim held, and only
   * those get targets, in one multi-row insert. Those two statements are written as SQL text
   * (one text per row count, so SQLite reuses its prepared statement): built through the query
   * builder, their 7,500 values cost more to assemble than to execute.
   */
  private async store(rows: ClaimedReport[], results: Built[]): Promise<void> {
    const { nodeId } = this.deps;
    const kind = this.deps.store.kind;
    const now = this.deps.clock();
    const kept = new Set<number>();
    const pendingIds = new Set<number>();
    await writeTransaction(this.deps.store, async (trx) => {
      const mine = <Q extends { where: (...a: any[]) => Q }>(q: Q, id: number) => q.where('id', '=', id).where('claimed_by', '=', nodeId).where('state', '=', 'building');
      const pending: { row: ClaimedReport; b: Built }[] = [];
      for (let i = 0; i < results.length; i++) {
        const b = results[i];
        const id = rows[i].id;
        if (b.finish) {
          const u = await mine(trx.updateTable('outbound_report').set({ ...b.finish, built_at: now, claimed_by: null, claimed_until: 0 }), id).executeTakeFirst();
          if (Number(u.numUpdatedRows) === 1) kept.add(id);
        } else if (b.defer !== undefined) {
          const u = await mine(trx.updateTable('outbound_report').set({ claimed_by: null, claimed_until: now + DNS_RETRY_SECONDS, reason: b.defer.slice(0, 500) }), id).executeTakeFirst();
          if (Number(u.numUpdatedRows) === 1) kept.add(id);
        } else if (b.pending) pending.push({ row: rows[i], b });
      }
      for (let i = 0; i < pending.length; i += MULTI_ROW) {
        const chunk = pending.slice(i, i + MULTI_ROW);
        const params: unknown[] = [];
        for (const { row, b } of chunk) {
          const p = b.pending!;
          params.push(row.id, row.windowId, row.policyDomain, row.windowStart, row.windowEnd, row.createdAt,
            p.report_id, p.json_bytes, p.gz, p.file_name, p.record_source, p.tlsrpt_record, p.trimmed_details, now, row.dueAt);
        }
        params.push(nodeId);
        const updated = await trx.executeQuery<{ id: number }>(CompiledQuery.raw(upsertBuiltSql(kind, chunk.length), params));
        for (const u of updated.rows) pendingIds.add(Number(u.id));
      }
      const targetRows: unknown[][] = [];
      for (const { row, b } of pending) {
        if (!pendingIds.has(row.id)) continue;
        kept.add(row.id);
        for (const t of b.pending!.targets) targetRows.push([row.id, t.uri, t.scheme, row.dueAt, 'pending']);
      }
      for (let i = 0; i < targetRows.length; i += MULTI_ROW) {
        await trx.executeQuery(bulkInsert(kind, 'outbound_target', TARGET_COLS, targetRows.slice(i, i + MULTI_ROW), 'on conflict (outbound_report_id, uri) do nothing'));
      }
    });
    for (const b of results) {
      if (!kept.has(b.outcome.reportRowId)) b.outcome = { ...b.outcome, state: 'deferred', reason: 'claim lost to another process' };
      else if (b.pending) {
        deliveryMetrics.reportsBuilt.inc();
        this.deps.log.info({ policyDomain: b.outcome.policyDomain, reportId: b.outcome.reportId, targets: b.outcome.targets, dueAt: b.dueAt }, 'report built');
      }
    }
  }

  /** Seconds until the next thing to do (window end, due report, retry), capped. */
  async nextWakeIn(): Promise<number> {
    const now = this.deps.clock();
    const cap = this.deps.maxSleepSeconds ?? 30;
    const w = await this.deps.store.db.selectFrom('outbound_window').select((eb) => eb.fn.min('window_end').as('at'))
      .where('state', '=', 'open').executeTakeFirst();
    const t = await this.deps.queue.nextDueAt();
    const candidates = [w?.at, t].filter((x): x is number => x !== null && x !== undefined).map(Number);
    const next = candidates.length ? Math.min(...candidates) : now + cap;
    return Math.max(1, Math.min(cap, next - now));
  }

  /** Runs ticks until stop(): at each window end, due time and retry time (at most `maxSleepSeconds` apart). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      let sleep = this.deps.maxSleepSeconds ?? 30;
      try {
        const r = await this.tick();
        if (r.attempts.length || r.built.length) {
          this.deps.log.debug({ closed: r.closed, built: r.built.length, attempts: r.attempts.length }, 'scheduler tick');
        }
        sleep = await this.nextWakeIn();
      } catch (e) {
        // The store may be briefly unavailable (PostgreSQL restart, SQLite busy): try again later.
        this.deps.log.error({ err: e }, 'scheduler tick failed');
      }
      if (!this.stopped) this.timer = setTimeout(loop, sleep * 1000);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops the loop, waits for a tick under way, and ends the build worker. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }
}

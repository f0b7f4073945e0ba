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
import { writeTransaction } from '../../store/transaction.js';
import { analyzeTables } from '../../store/statistics.js';
import { createBuildPool, inProcessBuilder, type BuildPool } from '../report/build-pool.js';
import { claimBuilding } from './claim.js';
import { closeDueWindows } from './close.js';
import { addFiles, prepareBatch } from './prepare.js';
import { storeBuilt } from './store-built.js';
import { BATCH, DNS_RETRY_SECONDS, type Batch, type BuildOptions, type BuildOutcome, type SchedulerDeps, type TickResult } from './types.js';

export { newNodeId, type BuildOutcome, type SchedulerDeps, type TickResult } from './types.js';

export class ReportScheduler {
  private readonly lease: number;
  private running: Promise<TickResult> | undefined;
  /** The build worker this scheduler started (none until a build has a full batch). */
  private pool: BuildPool | undefined;
  /** Reports this scheduler has built (state pending), for tick summaries. */
  private builtCount = 0;
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
  async tick(opts: BuildOptions = {}): Promise<TickResult> {
    while (this.running) await this.running.catch(() => {});
    this.running = this.runTick(opts);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Closes windows whose UTC end has passed (with `force`: every open window) and creates their report rows. */
  closeDueWindows(opts: { force?: boolean } = {}): Promise<number> {
    return closeDueWindows(this.deps, this.lease, opts);
  }

  private async runTick(opts: BuildOptions): Promise<TickResult> {
    const force = Boolean(opts.force);
    const closed = await this.closeDueWindows({ force });
    const before = this.builtCount;
    const built = await this.buildClaimedReports(opts);
    const attempts = await this.deps.queue.runDue({ force });
    return { closed, built, builtCount: this.builtCount - before, attempts };
  }

  /**
   * Builds every report this process holds (or whose builder's claim ran out): discovery, JSON,
   * targets. Works in batches: one claim, one read of the batch's counters, record lookups a few
   * at a time, one write transaction for the batch's results. Pipelined: while the build pool
   * turns batch N into JSON and gzip, this thread claims and reads batch N+1 and stores batch N-1.
   */
  async buildClaimedReports(opts: BuildOptions = {}): Promise<BuildOutcome[]> {
    const out: BuildOutcome[] = [];
    const builtBefore = this.builtCount;
    const deferred = new Set<number>();
    let inFlight: Batch | undefined;
    const settle = async (b: Batch) => {
      for (const r of await this.finishBatch(b)) {
        if (r.state === 'deferred') deferred.add(r.reportRowId);
        if (r.state === 'pending') this.builtCount++;
        if (r.state !== 'pending' || opts.keepBuilt !== false) out.push(r);
      }
    };
    for (;;) {
      const now = this.deps.clock();
      // The batch being built is still 'building' and claimed by us: it must not be claimed again.
      const claimed = await claimBuilding(this.deps, this.lease, now, inFlight ? [...deferred, ...inFlight.rows.map((r) => r.id)] : [...deferred]);
      if (claimed.length === 0) break;
      // A full first batch: many reports to build (a day's, closed moments ago); the claims of
      // the others are planned knowing how many.
      if (!inFlight && claimed.length === BATCH) await analyzeTables(this.deps.store, ['outbound_report']);
      const rows = claimed.map((r) => ({
        id: Number(r.id), windowId: Number(r.window_id), reportDomain: r.report_domain, windowStart: Number(r.window_start),
        windowEnd: Number(r.window_end), dueAt: opts.force ? Math.min(now, Number(r.due_at)) : Number(r.due_at), createdAt: Number(r.created_at),
      }));
      const batch: Batch = { rows, now, results: new Array(rows.length), toBuild: [] };
      try {
        const jobs = await prepareBatch(this.deps, batch);
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
    // As many new targets as reports: the delivery queue's claims that follow walk their partial
    // index (migration 0545) only once PostgreSQL's statistics know the rows are there (~100 ms
    // a claim at 100,000 targets without, ~3 ms with).
    if (this.builtCount - builtBefore >= BATCH) await analyzeTables(this.deps.store, ['outbound_target', 'outbound_report']);
    return out;
  }

  /** The pool for a batch: the injected one; else a worker for full batches, in-process for a few reports. */
  private builder(full: boolean): BuildPool {
    if (this.deps.buildPool) return this.deps.buildPool;
    if (!full) return this.pool ?? inProcessBuilder;
    return (this.pool ??= createBuildPool({ log: this.deps.log }));
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
      if (batch.files) addFiles(this.deps, batch, await batch.builder!.wait(batch.files));
      await storeBuilt(this.deps, rows, results);
      return results.map((b) => b.outcome);
    } catch (e) {
      const { store, nodeId } = this.deps;
      this.deps.log.error({ err: e, reports: rows.length }, 'report build failed, will retry');
      await writeTransaction(store, (trx) => trx.updateTable('outbound_report')
        .set({ claimed_by: null, claimed_until: batch.now + DNS_RETRY_SECONDS, reason: String((e as Error).message).slice(0, 500) })
        .where('id', 'in', rows.map((r) => r.id)).where('claimed_by', '=', nodeId).execute());
      return rows.map((r) => ({ reportRowId: r.id, reportDomain: r.reportDomain, windowStart: r.windowStart, state: 'deferred', reason: (e as Error).message }));
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
        // A day's reports for 100,000 domains would be 100,000 outcomes held only to be counted.
        const r = await this.tick({ keepBuilt: false });
        if (r.attempts.length || r.builtCount || r.built.length) {
          this.deps.log.debug({ closed: r.closed, built: r.builtCount, notBuilt: r.built.length, attempts: r.attempts.length }, 'scheduler tick');
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

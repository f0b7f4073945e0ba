/**
 * @module sending/scheduler — closes reporting windows at their UTC end, builds each window's
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
import { gzipSync } from 'node:zlib';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import type { Resolver, TlsrptLookup, TtlCache } from '../dns/index.js';
import { readWindows, type WindowContents } from './delivery/window-batch.js';
import { writeTransaction } from './aggregate.js';
import { composeReport } from './report-builder.js';
import { discoverRuaTargets } from './discovery.js';
import type { ReportSettingsSource } from './delivery/settings-view.js';
import type { DeliveryQueue, TargetAttempt } from './delivery/queue.js';
import { deliveryMetrics } from './delivery/metrics.js';

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

/**
 * RFC 8460 §5.2 gzip. A report smaller than zlib's 32 KB window compresses the same with a
 * window just larger than itself, and zlib's setup (most of the cost for a 2 KB report) shrinks
 * with the window and memory level.
 */
export function gzipReport(json: string): Buffer {
  const n = Buffer.byteLength(json);
  if (n >= 16384) return gzipSync(json);
  const windowBits = Math.max(9, Math.ceil(Math.log2(n + 262)));
  return gzipSync(json, { windowBits, memLevel: Math.max(1, windowBits - 7) });
}

const outcome = (r: ClaimedReport, state: BuildOutcome['state'], reason?: string): BuildOutcome =>
  ({ reportRowId: r.id, policyDomain: r.policyDomain, windowStart: r.windowStart, state, ...(reason ? { reason } : {}) });
/** A report whose record lookup keeps failing for a day is given up (the data is a day old). */
const BUILD_GIVE_UP_SECONDS = 86400;
const DNS_RETRY_SECONDS = 300;

export class ReportScheduler {
  private readonly lease: number;
  private running: Promise<TickResult> | undefined;
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
          .limit(BATCH)
          // A collector flush holds the row FOR SHARE while it counts into it; skip such a
          // window now and close it on the next tick, after the flush committed.
          .$if(store.kind === 'postgres', (q) => q.forUpdate().skipLocked());
        const rows = await trx.updateTable('outbound_window')
          .set({ state: 'closed', closed_at: now })
          .where('id', 'in', due)
          .where('state', '=', 'open')
          .returning(['id', 'policy_domain', 'window_start', 'window_end'])
          .execute();
        if (rows.length === 0) return 0;
        const spread = opts.force ? 0 : this.deps.spreadSeconds;
        for (let i = 0; i < rows.length; i += 100) {
          await trx.insertInto('outbound_report')
            .values(rows.slice(i, i + 100).map((w) => ({
              window_id: Number(w.id),
              policy_domain: w.policy_domain,
              window_start: Number(w.window_start),
              window_end: Number(w.window_end),
              state: 'building' as const,
              due_at: now + Math.floor(this.deps.random() * (spread + 1)),
              created_at: now,
              claimed_by: nodeId,
              claimed_until: now + this.lease,
            })))
            .onConflict((oc) => oc.column('window_id').doNothing())
            .execute();
        }
        return rows.length;
      });
      total += closedNow;
      if (closedNow < BATCH) break;
    }
    if (total) this.deps.log.info({ windows: total }, 'reporting windows closed');
    return total;
  }

  /**
   * Builds every report this process holds (or whose builder's claim ran out): discovery, JSON,
   * targets. Works in batches: one read of the batch's counters, record lookups a few at a time,
   * one write transaction for the batch's results.
   */
  async buildClaimedReports(opts: { force?: boolean } = {}): Promise<BuildOutcome[]> {
    const { store, nodeId } = this.deps;
    const out: BuildOutcome[] = [];
    const deferred = new Set<number>();
    for (;;) {
      const now = this.deps.clock();
      const claimable = store.db.selectFrom('outbound_report').select('id')
        .where('state', '=', 'building')
        .where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', nodeId)]))
        .$if(deferred.size > 0, (q) => q.where('id', 'not in', [...deferred]))
        // No ORDER BY: with 100,000 reports building, sorting them all for every batch of 500
        // would cost more than building; any 500 will do.
        .limit(BATCH)
        .$if(store.kind === 'postgres', (q) => q.forUpdate().skipLocked());
      const claimed = await writeTransaction(store, (trx) => trx.updateTable('outbound_report')
        .set({ claimed_by: nodeId, claimed_until: now + this.lease })
        .where('id', 'in', claimable)
        .where('state', '=', 'building')
        .where((eb) => eb.or([eb('claimed_until', '<', now), eb('claimed_by', '=', nodeId)]))
        .returning(['id', 'window_id', 'policy_domain', 'window_start', 'window_end', 'due_at', 'created_at'])
        .execute());
      if (claimed.length === 0) break;
      const rows = claimed.map((r) => ({
        id: Number(r.id), windowId: Number(r.window_id), policyDomain: r.policy_domain, windowStart: Number(r.window_start),
        windowEnd: Number(r.window_end), dueAt: opts.force ? Math.min(now, Number(r.due_at)) : Number(r.due_at), createdAt: Number(r.created_at),
      }));
      let results: Built[];
      try {
        results = await this.buildBatch(rows);
        await this.store(rows, results);
      } catch (e) {
        // A batch that throws (a bug, a store hiccup) must not stop the scheduler; it is retried later.
        this.deps.log.error({ err: e, reports: rows.length }, 'report build failed, will retry');
        await writeTransaction(store, (trx) => trx.updateTable('outbound_report')
          .set({ claimed_by: null, claimed_until: now + DNS_RETRY_SECONDS, reason: String((e as Error).message).slice(0, 500) })
          .where('id', 'in', rows.map((r) => r.id)).where('claimed_by', '=', nodeId).execute());
        results = rows.map((r) => ({ outcome: { reportRowId: r.id, policyDomain: r.policyDomain, windowStart: r.windowStart, state: 'deferred', reason: (e as Error).message } }));
      }
      for (const b of results) {
        if (b.outcome.state === 'deferred') deferred.add(b.outcome.reportRowId);
        out.push(b.outcome);
      }
      if (claimed.length < BATCH) break;
    }
    return out;
  }

  private async buildBatch(rows: ClaimedReport[]): Promise<Built[]> {
    const { settings } = this.deps;
    const results: Built[] = new Array(rows.length);
    const toRead: number[] = [];
    rows.forEach((r, i) => {
      // settings.md: `never` switches sending off completely — no DNS lookup, no report.
      if (settings.sendFrequency(r.policyDomain) === 'never') {
        deliveryMetrics.windowsDropped.inc({ reason: 'never' });
        results[i] = { finish: { state: 'skipped', reason: 'sendFrequency is never' }, outcome: outcome(r, 'skipped', 'sendFrequency is never') };
      } else toRead.push(i);
    });
    const windows = await readWindows(this.deps.store, toRead.map((i) => rows[i].windowId));
    // Record lookups run a few at a time: most answers come from the MTA's record or the cache,
    // the rest wait on DNS, not on each other.
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, toRead.length) }, async () => {
      while (next < toRead.length) {
        const i = toRead[next++];
        results[i] = await this.buildOne(rows[i], windows.get(rows[i].windowId));
      }
    }));
    return results;
  }

  private async buildOne(r: ClaimedReport, window: WindowContents | undefined): Promise<Built> {
    const { log, settings } = this.deps;
    const sessions = (window?.policies ?? []).reduce((n, p) => n + p.successful + p.failed, 0);
    if (!window || sessions === 0) {
      deliveryMetrics.windowsDropped.inc({ reason: 'no-data' });
      return { finish: { state: 'dropped', reason: 'no sessions in the window' }, outcome: outcome(r, 'dropped', 'no sessions in the window') };
    }
    const mtaRecords = new Map<string, number>();
    for (const p of window.policies) {
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

    const composed = composeReport(window, settings, log);
    for (const f of composed.refused) deliveryMetrics.settingsRefused.inc({ field: f.field });
    if (composed.trimmedDetails) {
      deliveryMetrics.reportsTrimmed.inc();
      deliveryMetrics.detailsTrimmed.inc(composed.trimmedDetails);
      log.warn({ policyDomain: r.policyDomain, reportId: composed.report.reportId, trimmedDetails: composed.trimmedDetails, bytes: Buffer.byteLength(composed.json), overLimit: composed.overLimit },
        'report trimmed to maxReportSize: smallest failure details dropped, totals kept');
    }
    const targets = found.rua.map((t) => (t.scheme === 'mailto'
      ? { uri: `mailto:${t.address}`, scheme: 'mailto' }
      : { uri: t.url, scheme: 'https' }));
    return {
      pending: {
        report_id: composed.report.reportId, json_bytes: Buffer.byteLength(composed.json), gz: gzipReport(composed.json), file_name: composed.fileName,
        record_source: found.source, tlsrpt_record: found.record, trimmed_details: composed.trimmedDetails, targets,
      },
      outcome: { ...outcome(r, 'pending'), reportId: composed.report.reportId, targets: targets.map((t) => t.uri) },
      dueAt: r.dueAt,
    };
  }

  /**
   * Writes a batch's results in one transaction, each row only while this process still holds
   * its claim. Built reports go in as multi-row upserts on their existing rows (`ON CONFLICT (id)
   * DO UPDATE … WHERE claimed_by = me`): one statement per 100 reports instead of one each;
   * RETURNING names the rows whose claim held, and only those get targets.
   */
  private async store(rows: ClaimedReport[], results: Built[]): Promise<void> {
    const { nodeId } = this.deps;
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
      for (let i = 0; i < pending.length; i += 100) {
        const chunk = pending.slice(i, i + 100);
        const updated = await trx.insertInto('outbound_report')
          .values(chunk.map(({ row, b }) => {
            const { targets: _t, ...p } = b.pending!;
            return {
              id: row.id, window_id: row.windowId, policy_domain: row.policyDomain, window_start: row.windowStart, window_end: row.windowEnd,
              created_at: row.createdAt, ...p, state: 'pending' as const, built_at: now, due_at: row.dueAt, reason: null, claimed_by: null, claimed_until: 0,
            };
          }))
          .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
            state: eb.ref('excluded.state'), report_id: eb.ref('excluded.report_id'), json_bytes: eb.ref('excluded.json_bytes'), gz: eb.ref('excluded.gz'),
            file_name: eb.ref('excluded.file_name'), record_source: eb.ref('excluded.record_source'), tlsrpt_record: eb.ref('excluded.tlsrpt_record'),
            trimmed_details: eb.ref('excluded.trimmed_details'), built_at: eb.ref('excluded.built_at'), due_at: eb.ref('excluded.due_at'),
            reason: eb.ref('excluded.reason'), claimed_by: eb.ref('excluded.claimed_by'), claimed_until: eb.ref('excluded.claimed_until'),
          })).where('outbound_report.claimed_by', '=', nodeId).where('outbound_report.state', '=', 'building'))
          .returning('id')
          .execute();
        for (const u of updated) pendingIds.add(Number(u.id));
      }
      const targetRows: { outbound_report_id: number; uri: string; scheme: string; state: 'pending'; next_attempt_at: number }[] = [];
      for (const { row, b } of pending) {
        if (!pendingIds.has(row.id)) continue;
        kept.add(row.id);
        for (const t of b.pending!.targets) targetRows.push({ outbound_report_id: row.id, uri: t.uri, scheme: t.scheme, state: 'pending', next_attempt_at: row.dueAt });
      }
      for (let i = 0; i < targetRows.length; i += 200) {
        await trx.insertInto('outbound_target').values(targetRows.slice(i, i + 200))
          .onConflict((oc) => oc.columns(['outbound_report_id', 'uri']).doNothing()).execute();
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

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }
}

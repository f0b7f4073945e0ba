/**
 * @module sending/collect/collector — the collection pipeline every source feeds (datagram socket, HTTP,
 * library calls): loop safety, counting metrics, and the flush schedule of the aggregator
 * (every `flushMs`, every `flushEvents` outcomes, and at once for outcomes that must be durable).
 * It is a service Component: `stop()` flushes everything (SIGTERM / SIGINT).
 */
import type { Logger } from '../../common/log.js';
import { silentLog } from '../../common/log.js';
import { beforeEventScrape, eventMetrics, gauge, counter, histogram } from '../../common/metrics.js';
import type { Store } from '../../store/index.js';
import { randomUUID } from 'node:crypto';
import { Aggregator, type AggregatorOptions, type FlushResult, type RejectReason } from './aggregate.js';
import { parseEventBatch, type TlsSessionOutcome } from './event.js';
import { appendJournal, claimOrphans, FencedError, heartbeat, HEARTBEAT_MS, readJournal, registerInstance, thisInstance, unregisterInstance, type JournalFormat } from './journal.js';
import { countOpenWindows } from '../windows/store.js';
import { type WindowFrequency } from '../windows/bounds.js';

export type EventSource = 'datagram' | 'http' | 'library';

export interface CollectorOptions {
  store: Store;
  /** The send frequency in force for a policy domain (SettingsService.sendFrequency); default daily. */
  sendFrequency?: (reportDomain: string) => WindowFrequency;
  /** Flush interval; outcomes from sources without acknowledgement (datagrams) may be lost inside it on a crash. Default 1000. */
  flushMs?: number;
  /** Flush as soon as this many outcomes wait. Default 200,000: memory is bounded by distinct keys, not outcomes, and each flush costs by keys, so at high rates fewer, larger flushes count more per second (ingest-http: 99k → 131k events/s against 50,000). */
  flushEvents?: number;
  maxBufferedKeys?: number;
  log?: Logger;
  /** Epoch milliseconds (tests). */
  clock?: () => number;
  /** This process's name in the node registry (default a random id); also its lease and fencing token. */
  instanceId?: string;
  /** The operator's name for this node in `tlsrpt cluster status` (default the host name). */
  nodeName?: string;
  /** The name this process claims reports and targets under (the delivery node id), for cluster status. */
  claimId?: string;
}

/** What a durable batch did. */
export interface RecordSummary {
  accepted: number;
  dropped: Partial<Record<RejectReason, number>>;
}

export interface Collector {
  readonly name: 'collector';
  readonly aggregator: Aggregator;
  /** Counts one outcome without waiting; returns why it was dropped, if it was. Never throws. */
  record(outcome: TlsSessionOutcome, source?: EventSource): RejectReason | undefined;
  /**
   * Counts a batch and resolves once it is durable (what HTTP acknowledges): committed to the
   * journal, counted in memory, and stored in the counters by the next flush (which deletes the
   * journal row in the same transaction). `journal` is the batch as received, when the caller
   * has it (`events-json`: a validated `{"events": [...]}` body); else the outcomes are written.
   */
  recordDurable(outcomes: readonly TlsSessionOutcome[], source?: EventSource, journal?: { format: JournalFormat; body: string }): Promise<RecordSummary>;
  /** Writes everything recorded so far; rejects if the store write failed (the counts stay queued). */
  flush(): Promise<void>;
  start(): Promise<void>;
  /** Stops the timer and flushes everything (retrying a few times). */
  stop(): Promise<void>;
}

const metrics = {
  flushSeconds: histogram('tlsrpt_collector_flush_seconds', 'duration of one aggregation flush (one store transaction)', [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  flushFailures: counter('tlsrpt_collector_flush_failures_total', 'aggregation flushes that failed (counts kept in memory and retried)'),
  fenced: counter('tlsrpt_collector_fenced_total', 'times this node found its lease taken over (late heartbeat) and rejoined, dropping what it held in memory'),
  flushedEvents: counter('tlsrpt_collector_flushed_events_total', 'outcomes written to the store'),
};

/** The collectors of this process, read by the gauges at scrape time. */
const live = new Set<Collector & { store: Store; foldMetrics(): void }>();
gauge('tlsrpt_collector_buffered_events', 'outcomes counted in memory, not yet flushed', [], function () {
  let n = 0;
  for (const c of live) n += c.aggregator.pendingEvents;
  this.set(n);
});
gauge('tlsrpt_collector_buffered_keys', 'distinct aggregation keys held in memory', [], function () {
  let n = 0;
  for (const c of live) n += c.aggregator.pendingKeys;
  this.set(n);
});
gauge('tlsrpt_collector_open_windows', 'reporting windows open in the store', [], async function () {
  const c = [...live][0];
  if (!c) return;
  try {
    this.set(await countOpenWindows(c.store));
  } catch {
    // A store hiccup must not fail the whole scrape.
  }
});

/**
 * Creates the collection pipeline.
 * @example
 * const collector = createCollector({ store, sendFrequency: (d) => settings.sendFrequency(d) });
 * await collector.start();
 * collector.record(outcome);                         // fire and forget (≤ flushMs to the store)
 * await collector.recordDurable([outcome], 'http');  // resolves once committed
 * await collector.stop();                            // flushes the rest
 */
export function createCollector(opts: CollectorOptions): Collector {
  const log = opts.log ?? silentLog;
  const flushMs = opts.flushMs ?? 1000;
  const flushEvents = opts.flushEvents ?? 200_000;
  const aggOpts: AggregatorOptions = {
    store: opts.store,
    journalOwner: () => me.instanceId,
    sendFrequency: opts.sendFrequency ?? (() => 'daily'),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.maxBufferedKeys ? { maxBufferedKeys: opts.maxBufferedKeys } : {}),
  };
  const aggregator = new Aggregator(aggOpts);
  let timer: NodeJS.Timeout | undefined;
  let retryAt = 0;
  let failures = 0;
  let lastErrorLog = 0;
  let thresholdFlush = false;
  let started = false;
  let stopping = false;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let unhook: (() => void) | undefined;
  const baseId = opts.instanceId ?? randomUUID();
  const names = { nodeName: opts.nodeName, claimId: opts.claimId ?? baseId };
  // Replaced when the lease is lost (fenced): journal rows are counted in memory only by the
  // instance that owns them, and each rejoin is a new instance.
  let me = thisInstance(baseId, names);
  let rejoins = 0;
  const clock = opts.clock ?? Date.now;
  // Leases run on the system clock, not the injected event clock (which places events in windows).
  const nowSec = () => Math.floor(Date.now() / 1000);

  const observe = (r: FlushResult) => {
    failures = 0;
    retryAt = 0;
    if (r.policyRows === 0) return;
    metrics.flushSeconds.observe(r.ms / 1000);
    metrics.flushedEvents.inc(r.events);
    log.debug({ events: r.events, policyRows: r.policyRows, detailRows: r.detailRows, windowsCreated: r.windowsCreated, ms: Math.round(r.ms) }, 'collector flushed');
  };
  const onError = (e: unknown) => {
    if (e instanceof FencedError) return void rejoin(e);
    failures++;
    metrics.flushFailures.inc();
    retryAt = Date.now() + Math.min(30_000, 100 * 2 ** Math.min(failures, 9));
    if (Date.now() - lastErrorLog > 10_000) {
      lastErrorLog = Date.now();
      log.error({ err: (e as Error).message, pendingEvents: aggregator.pendingEvents, failures }, 'collector flush failed; counts kept in memory, retrying');
    }
  };
  const flushNow = () => aggregator.flush().then(observe, onError);
  /**
   * The lease was taken over (this node's heartbeat was late, e.g. a stalled process or a long
   * network cut): another node replays its journal rows, so the counts in memory must go. Rejoins
   * under a new instance id, then replays whatever rows of the old one are still unclaimed.
   * Datagram outcomes since the last flush are lost, as in a crash.
   */
  let rejoining: Promise<void> | undefined;
  const rejoin = (e: Error) => (rejoining ??= (async () => {
    metrics.fenced.inc();
    if (stopping) {
      const dropped = aggregator.discard();
      log.error({ err: e.message, droppedEvents: dropped.events }, 'lease taken over while stopping: counts in memory dropped (journaled ones are replayed by another node)');
      return;
    }
    const next = thisInstance(`${baseId}~${++rejoins}`, names);
    for (let attempt = 0; ; attempt++) {
      try {
        await registerInstance(opts.store, next, nowSec());
        break;
      } catch (err) {
        if (!started || attempt > 600) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const old = me;
    me = next;
    const dropped = aggregator.discard();
    log.error({ err: e.message, oldInstance: old.instanceId, instance: me.instanceId, droppedEvents: dropped.events, journalRows: dropped.journalRows },
      'lease taken over by another node: counts in memory dropped (journaled ones are replayed there), rejoined');
    await recover();
  })().catch((err) => log.error({ err: (err as Error).message }, 'rejoin failed')).finally(() => (rejoining = undefined)));
  const pending = () => aggregator.pendingEvents > 0 || aggregator.pendingJournalRows > 0;
  const tick = () => {
    if (pending() && Date.now() >= retryAt) void flushNow();
  };
  const decodeJournal = (format: string, body: string): TlsSessionOutcome[] =>
    format === 'events-json' ? parseEventBatch(JSON.parse(body)) : (JSON.parse(body) as TlsSessionOutcome[]);
  /** Replays the journal rows of dead instances (a crash before their flush), page by page. */
  const recover = async () => {
    const owner = me;
    const ids = await claimOrphans(opts.store, owner, nowSec());
    if (ids.length === 0) return;
    let events = 0;
    for (let i = 0; i < ids.length; i += 100) {
      const rows = await readJournal(opts.store, ids.slice(i, i + 100), owner.instanceId);
      // Fenced meanwhile: the rows belong to whoever took them over.
      if (me !== owner) return;
      for (const row of rows) {
        let outcomes: TlsSessionOutcome[];
        try {
          outcomes = decodeJournal(row.format, row.body);
        } catch (e) {
          log.error({ journalId: row.id, err: (e as Error).message }, 'journal row cannot be decoded; left in place');
          continue;
        }
        for (const o of outcomes) aggregator.add(o, row.createdAtMs);
        aggregator.attachJournal(row.id);
        events += outcomes.length;
      }
      await collector.flush();
    }
    log.warn({ journalRows: ids.length, events }, 'replayed acknowledged events of a collector that stopped before storing them');
  };
  // Per-event counts are plain numbers, folded into the Prometheus counters on every timer tick
  // and before every scrape (a labelled prom-client inc per datagram costs as much as counting it).
  let unfolded = new Map<string, number>();
  const countIn = (r: RejectReason | undefined, source: EventSource) => {
    const k = r ? `${source}\0${r}` : source;
    unfolded.set(k, (unfolded.get(k) ?? 0) + 1);
  };
  const foldMetrics = () => {
    if (unfolded.size === 0) return;
    const counts = unfolded;
    unfolded = new Map();
    for (const [k, n] of counts) {
      const [source, reason] = k.split('\0');
      eventMetrics.received.inc({ source }, n);
      if (reason) eventMetrics.rejected.inc({ source, reason }, n);
      else eventMetrics.accepted.inc({ source }, n);
    }
  };

  const collector: Collector & { store: Store; foldMetrics(): void } = {
    name: 'collector',
    aggregator,
    store: opts.store,
    foldMetrics,
    record(outcome, source = 'library') {
      let r: RejectReason | undefined;
      try {
        r = aggregator.add(outcome);
      } catch (e) {
        // A malformed object from a library caller must not stop the collector.
        log.warn({ err: (e as Error).message, source }, 'outcome could not be counted');
        r = 'invalid-domain';
      }
      countIn(r, source);
      if (aggregator.pendingEvents >= flushEvents && !thresholdFlush && Date.now() >= retryAt) {
        thresholdFlush = true;
        void flushNow().finally(() => (thresholdFlush = false));
      }
      return r;
    },
    async recordDurable(outcomes, source = 'library', journal) {
      if (!started) throw new Error('the collector is not started: call start() first');
      const summary: RecordSummary = { accepted: 0, dropped: {} };
      if (outcomes.length === 0) return summary;
      const atMs = clock();
      const entry = journal ?? { format: 'outcomes-json' as const, body: JSON.stringify(outcomes) };
      // Durable from here on: a crash before the flush is repaired by replaying the row.
      const owner = me;
      const id = await appendJournal(opts.store, owner, entry.format, entry.body, atMs);
      if (me !== owner) {
        // Fenced while writing: the row has no live owner and is replayed by the next takeover
        // (ours included); counting it here too would count it twice.
        for (const o of outcomes) {
          const r: RejectReason | undefined = o.isReportDelivery ? 'report-delivery' : o.policies?.length ? undefined : 'no-policies';
          if (r) summary.dropped[r] = (summary.dropped[r] ?? 0) + 1;
          else summary.accepted++;
        }
        return summary;
      }
      for (const o of outcomes) {
        let r: RejectReason | undefined;
        try {
          r = aggregator.add(o, atMs);
        } catch {
          r = 'invalid-domain';
        }
        if (r) summary.dropped[r] = (summary.dropped[r] ?? 0) + 1;
        else summary.accepted++;
      }
      aggregator.attachJournal(id);
      // Metrics once per batch (a labelled inc per event costs as much as counting the event).
      eventMetrics.received.inc({ source }, outcomes.length);
      if (summary.accepted) eventMetrics.accepted.inc({ source }, summary.accepted);
      for (const [reason, n] of Object.entries(summary.dropped)) eventMetrics.rejected.inc({ source, reason }, n);
      if (aggregator.pendingEvents >= flushEvents && !thresholdFlush && Date.now() >= retryAt) {
        thresholdFlush = true;
        void flushNow().finally(() => (thresholdFlush = false));
      }
      return summary;
    },
    async flush() {
      let r: FlushResult;
      try {
        r = await aggregator.flush();
      } catch (e) {
        // Not awaited: recover() flushes too, and a rejoin waits for its recover().
        if (e instanceof FencedError) void rejoin(e);
        throw e;
      }
      observe(r);
    },
    async start() {
      if (started) return;
      await registerInstance(opts.store, me, nowSec());
      started = true;
      live.add(collector);
      unhook = beforeEventScrape(foldMetrics);
      await recover();
      heartbeatTimer = setInterval(() => {
        // Liveness for other instances' recovery; also picks up rows of instances that died meanwhile.
        const owner = me;
        heartbeat(opts.store, owner, nowSec())
          .then((held) => (held ? recover() : owner === me ? rejoin(new FencedError('heartbeat found the lease gone')) : undefined))
          .catch((e) => log.warn({ err: (e as Error).message }, 'collector heartbeat failed'));
      }, HEARTBEAT_MS).unref();
      // Checked often so a failed flush is retried on its backoff; the flush period is flushMs.
      let last = Date.now();
      timer = setInterval(() => {
        foldMetrics();
        if (Date.now() - last >= flushMs || failures > 0) {
          last = Date.now();
          tick();
        }
      }, Math.max(10, Math.min(flushMs, 250))).unref();
    },
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      timer = heartbeatTimer = undefined;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await collector.flush();
          if (!pending()) break;
        } catch (e) {
          onError(e);
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
      foldMetrics();
      if (pending()) log.error({ lostEvents: aggregator.pendingEvents, journalRows: aggregator.pendingJournalRows }, 'collector stopped with outcomes it could not store (journaled ones are replayed by the next collector)');
      // Gone: the next collector replays whatever journal rows are left at once.
      if (started) await unregisterInstance(opts.store, me).catch(() => {});
      started = false;
      stopping = false;
      unhook?.();
      live.delete(collector);
    },
  };
  return collector;
}

/** Rejections of a source that decodes its own input (the datagram socket), counted by the shared rule. */
export function countSourceRejection(source: EventSource, reason: string): void {
  eventMetrics.received.inc({ source });
  eventMetrics.rejected.inc({ source, reason });
}

/** The datagram source's own health figures (socket receive errors, wake-ups, dumps) at scrape time. */
export function exposeDatagramStats(stats: () => { receiveErrors: number; handlerErrors: number; dumped: number; wakeups: number; rejected: Record<string, number> }): void {
  gauge('tlsrpt_datagram_source', 'datagram socket figures since start (receive_errors, handler_errors, dumped, wakeups, unsupported_dpv)', ['stat'], function () {
    const s = stats();
    this.set({ stat: 'receive_errors' }, s.receiveErrors);
    this.set({ stat: 'handler_errors' }, s.handlerErrors);
    this.set({ stat: 'dumped' }, s.dumped);
    this.set({ stat: 'wakeups' }, s.wakeups);
    this.set({ stat: 'unsupported_dpv' }, s.rejected['unsupported-dpv'] ?? 0);
  });
}

/**
 * @module sending/library — the library entry for Node MTAs (package export `tlsrpt-hub/collector`):
 * count TLS session outcomes in-process into the same store `tlsrpt serve` reports from.
 *
 * @example
 * import { openCollector } from 'tlsrpt-hub/collector';
 * const collector = await openCollector({ store: { sqlite: '/var/lib/tlsrpt/tlsrpt.db' } });
 * collector.record({
 *   recipientDomain: 'example.org',
 *   tlsrptRecord: 'v=TLSRPTv1; rua=mailto:tlsrpt@example.org',
 *   policies: [{ policy: { policyType: 'sts', policyDomain: 'example.org', policyString: ['version: STSv1', 'mode: enforce', 'mx: *.mx.example.org', 'max_age: 86400'], mxHost: ['*.mx.example.org'] }, failed: false, failureDetails: [] }],
 * });
 * await collector.close();   // flushes what is still in memory, closes the store
 */
import type { Logger } from '../common/log.js';
import { openStore, type Store, type StoreConfig } from '../store/index.js';
import { createCollector, type Collector } from './collect/collector.js';
import { parseEventBatch } from './collect/event.js';
import type { WindowFrequency } from './windows/bounds.js';

export { createCollector, type Collector, type CollectorOptions, type EventSource, type RecordSummary } from './collect/collector.js';
export type { RejectReason } from './collect/aggregate.js';
export type { AppliedPolicy, TlsSessionOutcome } from './collect/event.js';
export { EventBatchJson, EventJsonError, outcomeFromJson, parseEventBatch, TlsSessionOutcomeJson } from './collect/event.js';
export { listOpenWindows, readWindow, windowToJson, type OutboundWindow, type WindowContents, type WindowPolicy } from '../analysis/outbound-windows.js';
export { windowBounds, type WindowFrequency } from './windows/bounds.js';
export { policyFingerprint } from './collect/fingerprint.js';

export interface OpenCollectorOptions {
  /** A store config (`{ sqlite: FILE }` or `{ postgres: URL }`, migrated on open) or an open Store. */
  store: StoreConfig | Store;
  /** Default: daily for every domain (what `serve` uses when TlsReportSettings.sendFrequency is unset). */
  sendFrequency?: (reportDomain: string) => WindowFrequency;
  /** Epoch milliseconds deciding an outcome's window (default Date.now; tests inject one). */
  clock?: () => number;
  /** Default 1000: outcomes recorded with `record()` reach the store within this time. */
  flushMs?: number;
  flushEvents?: number;
  log?: Logger;
}

export interface LibraryCollector extends Collector {
  /** Records the JSON form of `POST /api/v1/events` (`{"events": [...]}`); resolves once stored. Throws EventJsonError on bad input. */
  recordJson(batch: unknown): ReturnType<Collector['recordDurable']>;
  /** Stops (flushing everything) and closes the store if this call opened it. */
  close(): Promise<void>;
}

/** Opens (or uses) a store and starts a collector on it. */
export async function openCollector(opts: OpenCollectorOptions): Promise<LibraryCollector> {
  const owned = !('db' in opts.store);
  const store = owned ? await openStore(opts.store as StoreConfig, opts.log ? { log: opts.log } : {}) : (opts.store as Store);
  const collector = createCollector({
    store,
    ...(opts.sendFrequency ? { sendFrequency: opts.sendFrequency } : {}),
    ...(opts.flushMs ? { flushMs: opts.flushMs } : {}),
    ...(opts.flushEvents ? { flushEvents: opts.flushEvents } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  await collector.start();
  return Object.assign(collector, {
    recordJson: (batch: unknown) => collector.recordDurable(parseEventBatch(batch), 'library'),
    close: async () => {
      await collector.stop();
      if (owned) await store.close();
    },
  });
}

/**
 * @module sending — the sending area for the composition root: one `createSending` that builds
 * the collector (every event source feeds it), the libtlsrpt datagram source when
 * `collector.socket` is set, and the report scheduler with its delivery queue. Walk of one
 * datagram: collect/sources → collect/collector → collect/aggregate(-store) → windows →
 * schedule → report → deliver (docs/ARCHITECTURE.md).
 */
import type { Component } from '../common/component.js';
import type { Logger } from '../common/log.js';
import type { Store } from '../store/index.js';
import type { ServiceConfig } from '../settings/config.js';
import type { SettingsHandle } from '../settings/index.js';
import { createCollector, countSourceRejection, exposeDatagramStats, type Collector } from './collect/collector.js';
import { createDelivery, type Delivery } from './setup.js';
import { newNodeId } from './schedule/scheduler.js';
import { nodeNameFrom } from './collect/journal.js';

export type { Collector } from './collect/collector.js';
export { ingestEventsJson } from './collect/sources/http.js';

export interface Sending {
  /** Where HTTP (`POST /api/v1/events`) and library events are recorded. */
  collector: Collector;
  delivery: Delivery;
  /** In start order: collector, datagram source, scheduler (stopped in reverse, so the collector flushes last). */
  components: Component[];
}

/**
 * @example
 * const sending = await createSending(config, { store, settings, log });
 * app.route('/', eventsRoutes({ collector: sending.collector, store, maxBodyBytes }));
 */
export async function createSending(config: ServiceConfig, deps: { store: Store; settings: SettingsHandle; log: Logger }): Promise<Sending> {
  const { store, settings, log } = deps;
  const cc = config.collector;
  // One name per process in the node registry: its journal lease and its report/target claims.
  const nodeId = newNodeId();
  const collector = createCollector({
    store,
    instanceId: nodeId,
    nodeName: nodeNameFrom(config),
    sendFrequency: (reportDomain: string) => settings.sendFrequency(reportDomain),
    flushMs: cc?.flushMs,
    flushEvents: cc?.flushEvents,
    log: log.child({ component: 'collector' }),
  });
  const components: Component[] = [collector];
  if (cc?.socket) {
    // Loaded only when a socket is configured: it loads the native addon.
    const { createDatagramSource } = await import('./collect/sources/datagram.js');
    const source = createDatagramSource({
      path: cc.socket, mode: cc.mode, owner: cc.owner, group: cc.group, dumpDir: cc.dumpDir,
      log,
      onOutcome: (o) => void collector.record(o, 'datagram'),
      onReject: (reason) => countSourceRejection('datagram', reason),
    });
    exposeDatagramStats(() => source.stats());
    // A start failure names the setting and the path (`collector.socket /run/x.sock: bind … EADDRINUSE`).
    components.push({
      name: source.name,
      start: () => source.start().catch((e: NodeJS.ErrnoException) => {
        throw Object.assign(new Error(`collector.socket ${cc.socket}: ${e.message}`), { code: e.code });
      }),
      stop: () => source.stop(),
    });
  }
  const delivery = createDelivery({ config, store, settings, log: log.child({ component: 'delivery' }), nodeId });
  components.push({
    name: 'delivery',
    start: async () => delivery.scheduler.start(),
    stop: () => delivery.close(),
  });
  return { collector, delivery, components };
}

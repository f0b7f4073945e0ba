/**
 * @module common/metrics — the one prom-client registry of the process, served at `GET /metrics`.
 * It IS prom-client's default registry, so metrics registered either way (`registers: [registry]`
 * or prom-client's default) all appear; Node's default process metrics are on it too.
 * Areas register their own metrics with the get-or-create helpers below (idempotent, so a
 * module loaded twice or a test creating a second component does not throw "already registered").
 */
import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

// prom-client's index loads every default metric, its cluster and Pushgateway code and, for one
// CPU metric, @opentelemetry/api: ~160 modules, ~3 MiB of an idle collector (issue 12). Only the
// metric types and the few process metrics below are loaded.
const load = createRequire(import.meta.url);
const client = {
  Registry: load('prom-client/lib/registry') as { globalRegistry: Registry },
  Counter: load('prom-client/lib/counter') as typeof import('prom-client').Counter,
  Gauge: load('prom-client/lib/gauge') as typeof import('prom-client').Gauge,
  Histogram: load('prom-client/lib/histogram') as typeof import('prom-client').Histogram,
};

export const registry: Registry = client.Registry.globalRegistry;

if (!registry.getSingleMetric('process_resident_memory_bytes')) {
  for (const name of ['osMemoryHeap', 'processStartTime', 'heapSizeAndUsed', 'processOpenFileDescriptors']) {
    (load(`prom-client/lib/metrics/${name}`) as (r: Registry, c: object) => void)(registry, {});
  }
  // prom-client's process_cpu_* need @opentelemetry/api; the same counters from process.cpuUsage().
  let seen = { user: 0, system: 0 };
  const cpu = (which: 'user' | 'system') => new client.Counter({
    name: `process_cpu_${which}_seconds_total`, help: `Total ${which} CPU time spent in seconds.`, registers: [registry],
    collect() {
      const now = process.cpuUsage();
      this.inc((now[which] - seen[which]) / 1e6);
      seen = { ...seen, [which]: now[which] };
    },
  });
  cpu('user');
  cpu('system');
}

/** The counter `name`, created on first use. */
export function counter<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new client.Counter<L>({ name, help, labelNames, registers: [registry] });
}

/** The gauge `name`, created on first use; `collect` runs at each scrape (may be async). */
export function gauge<L extends string = string>(name: string, help: string, labelNames: readonly L[] = [], collect?: (this: Gauge<L>) => void | Promise<void>): Gauge<L> {
  return (registry.getSingleMetric(name) as Gauge<L> | undefined) ?? new client.Gauge<L>({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
}

/** The histogram `name`, created on first use. */
export function histogram<L extends string = string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
  return (registry.getSingleMetric(name) as Histogram<L> | undefined) ?? new client.Histogram<L>({ name, help, buckets, labelNames, registers: [registry] });
}

/**
 * TLS session outcome events, shared by every collection source (label `source`: datagram,
 * http, library). Rule: whoever decides an event's fate counts it — a source counts `received`
 * and `rejected{reason}` for what it rejects itself (a bad datagram: not-json, bad-shape,
 * unknown-policy-type, truncated, …); the collector counts `received` and `accepted` or
 * `rejected{reason}` for every outcome handed to it. So received = accepted + rejected.
 */
const scrapeHooks = new Set<() => void>();
/** Runs `fold` before each scrape of the event counters (for components that count in plain numbers). Returns an unregister function. */
export function beforeEventScrape(fold: () => void): () => void {
  scrapeHooks.add(fold);
  return () => scrapeHooks.delete(fold);
}

export const eventMetrics = {
  // `received` is read first of the three: its collect folds pending counts into all of them.
  received: (registry.getSingleMetric('tlsrpt_events_received_total') as Counter<'source'> | undefined) ??
    new client.Counter<'source'>({
      name: 'tlsrpt_events_received_total', help: 'TLS session outcome events received, by source', labelNames: ['source'], registers: [registry],
      collect() {
        for (const fold of scrapeHooks) fold();
      },
    }),
  accepted: counter('tlsrpt_events_accepted_total', 'events counted into the aggregation, by source', ['source']),
  rejected: counter('tlsrpt_events_rejected_total', 'events not counted, by source and reason', ['source', 'reason']),
};

/**
 * A label value from an open set (a policy domain), bounded: the first `max` distinct values of
 * `metric` are kept, later ones are counted as `other`, so a flood of reports about random
 * domains cannot grow the registry (and every scrape) without limit.
 */
const seenLabels = new Map<string, Set<string>>();
export function boundedLabel(metric: string, value: string, max = 100): string {
  let seen = seenLabels.get(metric);
  if (!seen) seenLabels.set(metric, (seen = new Set()));
  if (seen.has(value)) return value;
  if (seen.size >= max) return 'other';
  seen.add(value);
  return value;
}

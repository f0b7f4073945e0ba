/**
 * @module sending/collect/sources/http — the JSON source: a `POST /api/v1/events` body (or any JSON a
 * library caller has) becomes outcomes for the collector. All or nothing: a batch with one bad
 * field is refused whole with that field's path, and nothing of it is counted. The answer comes
 * only once the batch is committed to the store's journal (src/sending/collect/journal.ts), so an
 * acknowledged event survives `kill -9`; the counters have it within `collector.flushMs`.
 */
import { eventMetrics } from '../../../common/metrics.js';
import type { Collector, RecordSummary } from '../collector.js';
import { EventJsonError, parseEventBatch } from '../event.js';

export type IngestEventsResult =
  | { ok: true; summary: RecordSummary }
  | { ok: false; code: 'invalid-json' | 'invalid-event'; path?: string; message: string };

/**
 * Parses, validates and durably records one batch.
 * @example
 * const r = await ingestEventsJson(collector, '{"events": [...]}');
 * if (!r.ok) console.error(r.path, r.message);
 */
export async function ingestEventsJson(collector: Collector, body: string | Uint8Array): Promise<IngestEventsResult> {
  let json: unknown;
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    json = JSON.parse(text);
  } catch (e) {
    reject(1, 'invalid-json');
    return { ok: false, code: 'invalid-json', message: `the body is not JSON: ${(e as Error).message}` };
  }
  let outcomes;
  try {
    outcomes = parseEventBatch(json);
  } catch (e) {
    if (!(e instanceof EventJsonError)) throw e;
    const events = (json as { events?: unknown } | null)?.events;
    reject(Array.isArray(events) ? Math.max(1, events.length) : 1, 'invalid-event');
    return { ok: false, code: 'invalid-event', path: e.path, message: e.message };
  }
  // The validated body itself is journaled: no re-serialization on the hot path.
  return { ok: true, summary: await collector.recordDurable(outcomes, 'http', { format: 'events-json', body: text }) };
}

function reject(n: number, reason: string): void {
  eventMetrics.received.inc({ source: 'http' }, n);
  eventMetrics.rejected.inc({ source: 'http', reason }, n);
}

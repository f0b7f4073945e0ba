/**
 * @module sending/sources/http — the JSON source: a `POST /api/v1/events` body (or any JSON a
 * library caller has) becomes outcomes for the collector. All or nothing: a batch with one bad
 * field is refused whole with that field's path, and nothing of it is counted. The answer comes
 * only once the batch is committed to the store, so an acknowledged event survives `kill -9`.
 */
import { eventMetrics } from '../../metrics.js';
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
  try {
    json = JSON.parse(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
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
  return { ok: true, summary: await collector.recordDurable(outcomes, 'http') };
}

function reject(n: number, reason: string): void {
  eventMetrics.received.inc({ source: 'http' }, n);
  eventMetrics.rejected.inc({ source: 'http', reason }, n);
}

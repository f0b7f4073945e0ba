/**
 * @module store/packed — how `inbound_report` keeps a large report: its JSON, payload and raw
 * input gzip'd (migration 0525). A stranger's 9 MiB report written as text held SQLite's
 * synchronous driver, hence every request, for ~100 ms and took 18 MiB of disk; packed it is a
 * few hundred KB, compressed in the analysis worker. Small reports (every real one) stay plain.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

/** A report is packed when its JSON, payload or raw input is longer than this. */
export const PACK_ABOVE_BYTES = 64 * 1024;

/**
 * The packed forms of a report (gzip level 1: the worker's time is the cost). `rawGz` is absent
 * when the raw input is the payload itself (stored once, as the payload).
 */
export interface PackedReport { reportJsonGz: Uint8Array; payloadGz: Uint8Array; rawGz?: Uint8Array }

/** Packs when any form is large; undefined when all stay plain. `raw`: the input, when it is not the payload. */
export function packReport(reportJson: string, payload: Uint8Array, raw?: Uint8Array): PackedReport | undefined {
  if (Math.max(reportJson.length, payload.byteLength, raw?.byteLength ?? 0) <= PACK_ABOVE_BYTES) return undefined;
  const gz = (b: string | Uint8Array) => gzipSync(b, { level: 1 });
  return { reportJsonGz: gz(reportJson), payloadGz: gz(payload), ...(raw ? { rawGz: gz(raw) } : {}) };
}

interface StoredBlobs { report_json: string; report_json_gz: Uint8Array | null; payload: Uint8Array; raw: Uint8Array | null; blob_encoding: string | null }

/** The report JSON of a stored row, packed or not. */
export function storedReportJson(row: Pick<StoredBlobs, 'report_json' | 'report_json_gz'>): string {
  return row.report_json_gz ? gunzipSync(row.report_json_gz).toString('utf8') : row.report_json;
}

/** The payload of a stored row, packed or not. */
export function storedPayload(row: Pick<StoredBlobs, 'payload' | 'blob_encoding'>): Buffer {
  return row.blob_encoding === 'gzip' ? gunzipSync(row.payload) : Buffer.from(row.payload);
}

/** The raw input of a stored row (null: it is the payload), packed or not. */
export function storedRaw(row: Pick<StoredBlobs, 'raw' | 'blob_encoding'>): Buffer | null {
  if (!row.raw) return null;
  return row.blob_encoding === 'gzip' ? gunzipSync(row.raw) : Buffer.from(row.raw);
}

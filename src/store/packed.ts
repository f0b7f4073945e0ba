/**
 * @module store/packed — how `inbound_report` keeps a large report: its JSON and payload gzip'd
 * (migration 0525). A stranger's 9 MiB report written as text held SQLite's synchronous driver,
 * hence every request, for ~100 ms and took 18 MiB of disk; packed it is a few hundred KB,
 * compressed in the analysis worker. Small reports (every real one) stay plain and greppable.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

/** Texts longer than this are packed. */
export const PACK_ABOVE_BYTES = 64 * 1024;

/** The packed forms of a report's JSON and payload (gzip, level 1: the worker's time is the cost). */
export interface PackedReport { reportJsonGz: Uint8Array; payloadGz: Uint8Array }

/** Packs when either form is large; undefined when both stay plain. */
export function packReport(reportJson: string, payload: Uint8Array): PackedReport | undefined {
  if (reportJson.length <= PACK_ABOVE_BYTES && payload.byteLength <= PACK_ABOVE_BYTES) return undefined;
  return { reportJsonGz: gzipSync(reportJson, { level: 1 }), payloadGz: gzipSync(payload, { level: 1 }) };
}

/** The report JSON of a stored row, packed or not. */
export function storedReportJson(row: { report_json: string; report_json_gz: Uint8Array | null }): string {
  return row.report_json_gz ? gunzipSync(row.report_json_gz).toString('utf8') : row.report_json;
}

/** The payload of a stored row, packed or not. */
export function storedPayload(row: { payload: Uint8Array; payload_encoding: string | null }): Buffer {
  return row.payload_encoding === 'gzip' ? gunzipSync(row.payload) : Buffer.from(row.payload);
}

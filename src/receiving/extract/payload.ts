/**
 * @module receiving/extract/payload — turns the bytes of one attachment (or a whole file)
 * into report payloads by sniffing them, never by trusting the label: senders label gzip as
 * `application/octet-stream` and plain JSON as `+gzip` (docs/spec/quirks.md). `1F 8B` is gzip, `PK` is
 * zip, `{` (after a BOM and whitespace) is JSON; base64 text of gzip/zip is decoded too.
 */
import { type Budget, ExtractError } from './errors.js';
import { gunzipBounded, isGzip } from './inflate.js';
import { isZip, readZip } from './zip.js';

export interface ExtractedPayload {
  /** The report JSON bytes, decompressed. */
  bytes: Uint8Array;
  /** Where in the input it was found, for messages: `part 2 application/tlsrpt+gzip (x.json.gz)`. */
  source: string;
  filename?: string;
}

export type PayloadKind = 'gzip' | 'zip' | 'json' | 'base64' | 'unknown';

/** Containers inside containers (zip holding .json.gz) are followed this deep, no deeper. */
const MAX_CONTAINER_DEPTH = 3;

function skipSpace(b: Uint8Array, p = 0): number {
  if (b[p] === 0xef && b[p + 1] === 0xbb && b[p + 2] === 0xbf) p += 3;
  while (p < b.length && (b[p] === 0x20 || b[p] === 0x09 || b[p] === 0x0d || b[p] === 0x0a)) p++;
  return p;
}

function startsWithAscii(b: Uint8Array, p: number, s: string): boolean {
  if (b.length < p + s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[p + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** What the bytes are, and where their content starts (after BOM / whitespace). */
export function sniff(b: Uint8Array): { kind: PayloadKind; start: number } {
  if (isGzip(b)) return { kind: 'gzip', start: 0 };
  if (isZip(b)) return { kind: 'zip', start: 0 };
  const p = skipSpace(b);
  if (b[p] === 0x7b /* { */) return { kind: 'json', start: p };
  if (isGzip(b, p)) return { kind: 'gzip', start: p };
  if (isZip(b.subarray(p, p + 4))) return { kind: 'zip', start: p };
  // Base64 of a gzip member / zip archive, left encoded by a gateway that dropped the CTE header.
  if (startsWithAscii(b, p, 'H4sI') || startsWithAscii(b, p, 'UEsDB')) return { kind: 'base64', start: p };
  return { kind: 'unknown', start: p };
}

/**
 * Appends every report payload found in `bytes` to `out`. Broken containers are appended to
 * `problems` (the input may hold other, good payloads); broken limits throw.
 */
export function collectPayloads(
  bytes: Uint8Array, source: string, filename: string | undefined, budget: Budget,
  out: ExtractedPayload[], problems: ExtractError[], depth = 0,
): void {
  const { kind, start } = sniff(bytes);
  if (kind === 'unknown') return;
  if (kind === 'json') {
    out.push({ bytes: bytes.subarray(start), source, ...(filename ? { filename } : {}) });
    return;
  }
  if (depth >= MAX_CONTAINER_DEPTH) {
    problems.push(new ExtractError('too-deep', `${source}: containers nested more than ${MAX_CONTAINER_DEPTH} deep`));
    return;
  }
  const body = bytes.subarray(start);
  try {
    if (kind === 'gzip') {
      collectPayloads(gunzipBounded(body, budget, source), source, filename, budget, out, problems, depth + 1);
    } else if (kind === 'zip') {
      for (const entry of readZip(body, budget, source)) {
        collectPayloads(entry.bytes, `${source} > ${entry.name}`, entry.name, budget, out, problems, depth + 1);
      }
    } else {
      const decoded = Buffer.from(Buffer.from(body).toString('latin1'), 'base64');
      if (isGzip(decoded) || isZip(decoded)) collectPayloads(decoded, `${source} (base64)`, filename, budget, out, problems, depth + 1);
    }
  } catch (e) {
    if (!(e instanceof ExtractError)) throw e;
    if (isLimit(e)) throw e;
    problems.push(e);
  }
}

/** Codes of the hard limits: these end the extraction, whatever else the input holds. */
export function isLimit(e: ExtractError): boolean {
  return ['too-large', 'decompressed-too-large', 'zip-too-many-entries', 'compression-ratio', 'too-many-parts', 'mime-too-deep'].includes(e.code);
}

/**
 * @module receiving/extract/inflate — bounded decompression: gzip (RFC 1952) members with
 * trailing garbage tolerated, and raw deflate for zip entries. Output never grows past the
 * remaining decompression budget: zlib stops at `maxOutputLength` instead of allocating on.
 */
import zlib from 'node:zlib';
import { type Budget, ExtractError, decompressedTooLarge } from './errors.js';

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;

interface InflateResult { buffer: Buffer; engine: { bytesWritten: number } }

/**
 * Raw-inflates `data`, producing at most `cap` bytes. Returns the output and how many input
 * bytes the deflate stream used (whatever follows the stream's end is left alone).
 */
export function inflateRawCapped(data: Uint8Array, cap: number, what: string, budget: Budget): { output: Buffer; consumed: number } {
  try {
    const r = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, cap), info: true } as zlib.ZlibOptions) as unknown as InflateResult;
    if (r.buffer.length > cap) throw decompressedTooLarge(budget.limits, what);
    return { output: r.buffer, consumed: r.engine.bytesWritten };
  } catch (e) {
    if (e instanceof ExtractError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw decompressedTooLarge(budget.limits, what);
    throw new ExtractError('invalid-gzip', `${what}: the compressed data are corrupt (${(e as Error).message})`);
  }
}

/** True when the bytes start with the gzip magic `1F 8B` (RFC 8460 §6: application/tlsrpt+gzip). */
export function isGzip(b: Uint8Array, at = 0): boolean {
  return b.length >= at + 2 && b[at] === 0x1f && b[at + 1] === 0x8b;
}

/** Offset of the deflate data after a gzip member header starting at `at`. */
function gzipHeaderEnd(b: Uint8Array, at: number, what: string): number {
  const bad = (why: string) => new ExtractError('invalid-gzip', `${what}: not a valid gzip stream (${why})`);
  if (b.length < at + 10) throw bad('truncated header');
  if (b[at + 2] !== 8) throw bad(`compression method ${b[at + 2]}, expected 8 (deflate)`);
  const flags = b[at + 3] ?? 0; // in range: the length was checked above
  let p = at + 10;
  if (flags & FEXTRA) {
    if (b.length < p + 2) throw bad('truncated extra field');
    p += 2 + ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8));
  }
  for (const f of [FNAME, FCOMMENT]) {
    if (flags & f) {
      while (p < b.length && b[p] !== 0) p++;
      p++;
    }
  }
  if (flags & FHCRC) p += 2;
  if (p > b.length) throw bad('truncated header');
  return p;
}

function readU32LE(b: Uint8Array, p: number): number {
  // Bytes past the end read as 0: callers check the length first.
  return ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16) | ((b[p + 3] ?? 0) << 24)) >>> 0;
}

/**
 * Decompresses every gzip member in `b` (concatenated members are one stream, RFC 1952 §2.2)
 * and ignores what follows the last one: DMARC-world senders (Mimecast) append CRLF or
 * garbage after the member. Checks CRC-32 and ISIZE when the trailer is present.
 */
export function gunzipBounded(b: Uint8Array, budget: Budget, what: string): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  let at = 0;
  while (isGzip(b, at)) {
    const start = gzipHeaderEnd(b, at, what);
    const { output, consumed } = inflateRawCapped(b.subarray(start), budget.remainingDecompressed(), what, budget);
    const trailer = start + consumed;
    if (trailer + 8 <= b.length) {
      const crc = readU32LE(b, trailer);
      const isize = readU32LE(b, trailer + 4);
      if (crc !== zlib.crc32(output) >>> 0 || isize !== (output.length >>> 0)) {
        throw new ExtractError('invalid-gzip', `${what}: gzip checksum mismatch; the attachment is damaged`);
      }
    }
    budget.addDecompressed(output.length, trailer + 8 - at, what);
    chunks.push(output);
    total += output.length;
    at = trailer + 8;
    if (consumed === 0) break;
  }
  return chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, total);
}

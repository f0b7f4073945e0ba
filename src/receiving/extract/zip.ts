/**
 * @module receiving/extract/zip — a small, bounded zip reader over the central directory
 * (PKWARE APPNOTE 6.3): stored and deflated entries, zip64 directories. The entry count,
 * each declared and actual size and the compression ratio are checked before and while
 * inflating, so a zip bomb costs at most the remaining decompression budget.
 */
import { type Budget, COMPRESSION_RATIO_FLOOR_BYTES, ExtractError, decompressedTooLarge } from './errors.js';
import { inflateRawCapped } from './inflate.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;

export interface ZipEntry { name: string; bytes: Uint8Array }

/** True when the bytes start like a zip archive (`PK\x03\x04`, or `PK\x05\x06` for an empty one). */
export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6);
}

class View {
  constructor(readonly b: Uint8Array, readonly what: string) {}
  need(p: number, n: number): void {
    if (p < 0 || p + n > this.b.length) throw new ExtractError('invalid-zip', `${this.what}: the zip archive is truncated or corrupt`);
  }
  u16(p: number): number { this.need(p, 2); return this.byte(p) | (this.byte(p + 1) << 8); }
  u32(p: number): number { this.need(p, 4); return (this.byte(p) | (this.byte(p + 1) << 8) | (this.byte(p + 2) << 16) | (this.byte(p + 3) << 24)) >>> 0; }
  /** One byte; callers checked the range with `need`. */
  private byte(p: number): number { return this.b[p] ?? 0; }
  u64(p: number): number {
    const lo = this.u32(p), hi = this.u32(p + 4);
    // Beyond 2^53 nothing in a 50 MB input can be addressed anyway.
    return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
  }
}

function findEocd(v: View): number {
  const b = v.b;
  const stop = Math.max(0, b.length - 22 - 0xffff);
  for (let p = b.length - 22; p >= stop; p--) {
    if (b[p] === 0x50 && b[p + 1] === 0x4b && b[p + 2] === 5 && b[p + 3] === 6) return p;
  }
  throw new ExtractError('invalid-zip', `${v.what}: no zip end-of-central-directory record`);
}

/**
 * Reads every file entry of a zip archive, decompressed. Directories and encrypted entries
 * are skipped; other compression methods than stored (0) and deflate (8) are skipped too.
 * @example readZip(bytes, new Budget(DEFAULT_LIMITS), 'report.zip') // → [{ name: 'r.json', bytes }]
 */
export function readZip(b: Uint8Array, budget: Budget, what: string): ZipEntry[] {
  const { limits } = budget;
  const v = new View(b, what);
  const eocd = findEocd(v);
  let count = v.u16(eocd + 10);
  let cdOffset = v.u32(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    // zip64: more than 65535 entries or offsets past 4 GiB live in the zip64 EOCD record.
    const loc = eocd - 20;
    if (loc >= 0 && v.u32(loc) === SIG_ZIP64_LOCATOR) {
      const z = v.u64(loc + 8);
      if (v.u32(z) !== SIG_ZIP64_EOCD) throw new ExtractError('invalid-zip', `${what}: broken zip64 directory`);
      count = v.u64(z + 32);
      cdOffset = v.u64(z + 48);
    }
  }
  if (count > limits.maxZipEntries) {
    throw new ExtractError('zip-too-many-entries', `${what}: the zip archive has ${count} entries, more than ${limits.maxZipEntries}; refusing it`);
  }
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (v.u32(p) !== SIG_CENTRAL) throw new ExtractError('invalid-zip', `${what}: corrupt zip central directory`);
    const flags = v.u16(p + 8);
    const method = v.u16(p + 10);
    let csize = v.u32(p + 20);
    let usize = v.u32(p + 24);
    const nameLen = v.u16(p + 28), extraLen = v.u16(p + 30), commentLen = v.u16(p + 32);
    let localOffset = v.u32(p + 42);
    v.need(p + 46, nameLen + extraLen);
    const name = Buffer.from(b.subarray(p + 46, p + 46 + nameLen)).toString('utf8');
    if (usize === 0xffffffff || csize === 0xffffffff || localOffset === 0xffffffff) {
      ({ usize, csize, localOffset } = zip64Sizes(v, p + 46 + nameLen, extraLen, { usize, csize, localOffset }));
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/') || (flags & 1) !== 0 || (method !== 0 && method !== 8)) continue;
    const entryWhat = `${what} entry ${JSON.stringify(name)}`;
    // Declared sizes first: a bomb announces itself before a single byte is inflated.
    if (usize > budget.remainingDecompressed()) throw decompressedTooLarge(limits, entryWhat);
    if (usize >= COMPRESSION_RATIO_FLOOR_BYTES && usize / Math.max(1, csize) > limits.maxCompressionRatio) {
      throw new ExtractError('compression-ratio', `${entryWhat}: declares ${usize} bytes from ${csize} compressed (ratio above ${limits.maxCompressionRatio}); refusing a likely zip bomb`);
    }
    if (v.u32(localOffset) !== SIG_LOCAL) throw new ExtractError('invalid-zip', `${entryWhat}: missing local header`);
    const dataStart = localOffset + 30 + v.u16(localOffset + 26) + v.u16(localOffset + 28);
    v.need(dataStart, csize);
    const data = b.subarray(dataStart, dataStart + csize);
    let bytes: Uint8Array;
    if (method === 0) {
      bytes = data;
    } else {
      // The declared size may lie: cap at the budget, not at the declaration.
      bytes = inflateRawCapped(data, budget.remainingDecompressed(), entryWhat, budget).output;
    }
    budget.addDecompressed(bytes.length, csize, entryWhat);
    entries.push({ name, bytes });
  }
  return entries;
}

/** Reads the zip64 extended-information extra field (id 0x0001) of a central directory entry. */
function zip64Sizes(v: View, at: number, len: number, s: { usize: number; csize: number; localOffset: number }) {
  const end = at + len;
  let p = at;
  while (p + 4 <= end) {
    const id = v.u16(p), size = v.u16(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const out = { ...s };
      if (s.usize === 0xffffffff) { out.usize = v.u64(q); q += 8; }
      if (s.csize === 0xffffffff) { out.csize = v.u64(q); q += 8; }
      if (s.localOffset === 0xffffffff) { out.localOffset = v.u64(q); }
      return out;
    }
    p += 4 + size;
  }
  return s;
}

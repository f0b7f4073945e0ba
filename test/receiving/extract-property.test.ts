/**
 * @module test/receiving/extract-property — fuzzing the extractor: arbitrary bytes, mutated
 * real mails and containers only ever resolve with payloads or reject with an ExtractError.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { extractReports, ExtractError } from '../../src/receiving/extract/index.js';

const FIX = path.resolve('test/fixtures/reports');
const samples = readdirSync(FIX).filter((f) => f.endsWith('.eml') || f.endsWith('.json')).map((f) => readFileSync(path.join(FIX, f)));
const mails = samples.filter((b) => !b.toString('latin1').trimStart().startsWith('{'));
const report = readFileSync(path.join(FIX, 'stalwart-mail-auth__rpt01.json'));

/** The property: a result with payloads, or an ExtractError that is not an internal failure. */
async function onlyResultOrTypedError(input: Uint8Array): Promise<void> {
  try {
    const r = await extractReports(input, { maxDecompressedBytes: 4 * 1024 * 1024 });
    assert.ok(r.payloads.length > 0);
    for (const p of r.payloads) assert.ok(p.bytes instanceof Uint8Array && typeof p.source === 'string');
  } catch (e) {
    if (!(e instanceof ExtractError)) throw new Error(`untyped failure: ${(e as Error)?.stack ?? e}`);
    assert.notEqual(e.code, 'extract-failed', `an unforeseen failure surfaced: ${e.message} ${(e.cause as Error)?.stack}`);
  }
}

/** Mutations of a byte string: flip, delete, insert, duplicate, truncate. */
const mutated = (base: Buffer) => fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 32 }) }),
    fc.record({ op: fc.constant('insertText' as const), at: fc.nat(), text: fc.constantFrom('\r\n', '--', '\r\n--', ': ', ';', '"', '=?utf-8?b?', 'boundary=', '\r\n\r\n', 'Content-Type: message/rfc822\r\n\r\n', 'Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n') }),
    fc.record({ op: fc.constant('dup' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 512 }) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  ),
  { minLength: 1, maxLength: 8 },
).map((ops) => {
  let b = Buffer.from(base);
  for (const o of ops) {
    const at = b.length ? o.at % b.length : 0;
    switch (o.op) {
      case 'flip': if (b.length) b[at] = o.v; break;
      case 'delete': b = Buffer.concat([b.subarray(0, at), b.subarray(at + o.n)]); break;
      case 'insert': b = Buffer.concat([b.subarray(0, at), Buffer.from(o.bytes), b.subarray(at)]); break;
      case 'insertText': b = Buffer.concat([b.subarray(0, at), Buffer.from(o.text), b.subarray(at)]); break;
      case 'dup': b = Buffer.concat([b.subarray(0, at + o.n), b.subarray(at)]); break;
      case 'truncate': b = b.subarray(0, at); break;
    }
  }
  return b;
});

describe('extractReports under fuzzing', { timeout: 120_000 }, () => {
  it('arbitrary bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), onlyResultOrTypedError), { numRuns: 400 });
  });
  it('arbitrary bytes behind a gzip, zip or header prefix', async () => {
    const prefix = fc.constantFrom(Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from([0x1f, 0x8b, 8, 0x1f]), Buffer.from('PK\x03\x04'), Buffer.from('PK\x05\x06'), Buffer.from('From: a@b\r\nContent-Type: multipart/report; boundary=b\r\n\r\n--b\r\n'), Buffer.from(' \r\n{'), Buffer.from('H4sI'), Buffer.from('UEsDB'));
    await fc.assert(fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 2048 }), (p, rest) => onlyResultOrTypedError(Buffer.concat([p, rest]))), { numRuns: 400 });
  });
  it('mutated real e-mails', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...mails).chain(mutated), onlyResultOrTypedError), { numRuns: 500 });
  });
  it('mutated gzip members and zip archives', async () => {
    const gz = zlib.gzipSync(report);
    const zip = zipOf(report);
    await fc.assert(fc.asyncProperty(fc.constantFrom(gz, zip, Buffer.concat([gz, gz])).chain(mutated), onlyResultOrTypedError), { numRuns: 500 });
  });
  it('keeps memory bounded over many hostile inputs', async () => {
    const before = process.memoryUsage().rss;
    await fc.assert(fc.asyncProperty(fc.constantFrom(...mails).chain(mutated), onlyResultOrTypedError), { numRuns: 300 });
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 256 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1e6)} MB`);
  });
});

/** One deflated entry, written by hand (the reader under test must not write its own input). */
function zipOf(data: Buffer): Buffer {
  const comp = zlib.deflateRawSync(data);
  const name = Buffer.from('r.json');
  const crc = zlib.crc32(data);
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(8, 8); lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(data.length, 22); lh.writeUInt16LE(name.length, 26);
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(8, 10); ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(data.length, 24); ch.writeUInt16LE(name.length, 28);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(1, 8); eocd.writeUInt16LE(1, 10); eocd.writeUInt32LE(46 + name.length, 12); eocd.writeUInt32LE(30 + name.length + comp.length, 16);
  return Buffer.concat([lh, name, comp, ch, name, eocd]);
}

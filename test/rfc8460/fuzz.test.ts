/** @module test/rfc8460/fuzz — hostile input: the parser returns a report or throws ReportError, nothing else, quickly */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseReport, parseTlsrptRecord, ReportError, selectTlsrptRecord, serializeReport } from '../../src/rfc8460/index.js';

const DIR = new URL('../fixtures/reports/', import.meta.url);
const samples = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => readFileSync(new URL(f, DIR)));

/** Runs the parser; any exception other than ReportError fails the property. */
function survives(input: string | Uint8Array, limitMs = 2000): void {
  const t0 = performance.now();
  try {
    const { report, findings } = parseReport(input);
    assert.ok(Array.isArray(report.policies) && Array.isArray(findings));
    // Whatever was accepted can be written back, and the result stays in proportion to the
    // input (findings are capped at 1000): memory is bounded by the input size.
    const out = serializeReport(report, { includeExtra: true }).length + JSON.stringify(findings).length;
    // An empty policy `{},` (3 bytes) normalises to ~170 bytes of JSON: hence the factor.
    assert.ok(out <= 64 * input.length + 300_000, `output ${out} for input ${input.length}`);
  } catch (e) {
    if (!(e instanceof ReportError)) throw e;
    assert.ok(['not-a-tls-report', 'invalid-json', 'too-deep', 'invalid-utf8', 'too-many-entries'].includes(e.code), `error code ${e.code}`);
  }
  // Generous: CI machines are shared; a hang or a quadratic path is orders of magnitude slower.
  assert.ok(performance.now() - t0 < limitMs, `took under ${limitMs} ms`);
}

/** Byte-level mutations of a real report: flips, deletions, insertions, duplications. */
const mutation = fc.record({
  sample: fc.nat({ max: samples.length - 1 }),
  edits: fc.array(fc.tuple(fc.constantFrom('flip', 'delete', 'insert', 'dup'), fc.nat(), fc.nat({ max: 255 }), fc.nat({ max: 40 })), { minLength: 1, maxLength: 8 }),
}).map(({ sample, edits }) => {
  let b = Buffer.from(samples[sample]);
  for (const [op, at, byte, len] of edits) {
    const i = at % (b.length + 1);
    if (op === 'flip' && b.length > 0) b[i % b.length] = byte;
    else if (op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + len)]);
    else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
    else b = Buffer.concat([b.subarray(0, i + len), b.subarray(i)]);
  }
  return b;
});

/** Structural mutations: replace one JSON value anywhere in a real report with any JSON value. */
const structural = fc.record({ sample: fc.nat({ max: samples.length - 1 }), pick: fc.nat(), value: fc.jsonValue({ maxDepth: 4 }) }).map(({ sample, pick, value }) => {
  const doc = JSON.parse(samples[sample].toString('utf8'));
  const slots: [any, string | number][] = [];
  (function walk(v: any) {
    if (typeof v !== 'object' || v === null) return;
    for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) { slots.push([v, k]); walk(v[k]); }
  })(doc);
  const [holder, key] = slots[pick % slots.length];
  holder[key] = value;
  return JSON.stringify(doc);
});

describe('parser under hostile input', () => {
  it('arbitrary bytes', () => fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (x) => survives(x)), { numRuns: 2000 }));
  it('arbitrary strings', () => fc.assert(fc.property(fc.string({ maxLength: 500, unit: 'binary' }), (x) => survives(x)), { numRuns: 1000 }));
  it('arbitrary JSON', () => fc.assert(fc.property(fc.json({ maxDepth: 6 }), (x) => survives(x)), { numRuns: 1000 }));
  it('objects that look like reports', () => fc.assert(fc.property(
    fc.dictionary(fc.constantFrom('policies', 'date-range', 'report-id', 'contact-info', 'organization-name', 'x'), fc.jsonValue({ maxDepth: 4 })),
    (o) => survives(JSON.stringify(o))), { numRuns: 2000 }));
  it('byte-mutated real reports', () => fc.assert(fc.property(mutation, (x) => survives(x)), { numRuns: 3000 }));
  it('value-mutated real reports', () => fc.assert(fc.property(structural, (x) => survives(x)), { numRuns: 3000 }));
  it('deep and wide documents stay fast', () => {
    survives('{"policies":[' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + '],"report-id":"x"}', 10_000);
    const wide = '{"policies":[' + '{"summary":{}},'.repeat(9_999) + '{}],"report-id":"x"}';
    survives(wide, 10_000);
    const { findings } = parseReport(wide);
    assert.equal(findings.length, 1001, 'findings are capped');
    assert.equal(findings[1000].code, 'findings-truncated');
    const tooWide = '{"policies":[' + '{},'.repeat(1_000_000) + '{}],"report-id":"x"}';
    assert.throws(() => parseReport(tooWide), (e: unknown) => e instanceof ReportError && e.code === 'too-many-entries');
    const manyDetails = '{"policies":[{"failure-details":[' + '{},'.repeat(100_000) + '{}]}],"report-id":"x"}';
    assert.throws(() => parseReport(manyDetails), (e: unknown) => e instanceof ReportError && e.code === 'too-many-entries');
    // The limit itself is allowed: exactly maxFailureDetails details parse, one more does not.
    const details = (n: number) => '{"policies":[{"failure-details":[' + Array(n).fill('{}').join(',') + ']}],"report-id":"x"}';
    assert.doesNotThrow(() => parseReport(details(3), { maxFailureDetails: 3 }));
    assert.throws(() => parseReport(details(4), { maxFailureDetails: 3 }), (e: unknown) => e instanceof ReportError && e.code === 'too-many-entries');
    survives(manyDetails, 10_000);
    survives('"' + '\\'.repeat(100_001) + '"', 10_000);
    survives('{"policies":[],"report-id":"' + '\\"'.repeat(100_000) + '"}', 10_000);
  });
});

describe('TXT record parser under hostile input', () => {
  it('arbitrary text never throws', () => fc.assert(fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (t) => {
    const r = parseTlsrptRecord(t);
    assert.equal(typeof r.ok, 'boolean');
    const s = parseTlsrptRecord('v=TLSRPTv1; rua=' + t);
    if (s.ok) assert.ok(s.rua.length > 0);
  }), { numRuns: 3000 }));
  it('arbitrary record lists never throw', () => fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.array(fc.string()))), (l) => {
    assert.equal(typeof selectTlsrptRecord(l).ok, 'boolean');
  }), { numRuns: 1000 }));
});

/** @module test/sending/datagram-property — arbitrary and mutated datagrams never stop the source; valid ones between them all arrive */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { silentLog } from '../../src/common/log.js';
import type { TlsSessionOutcome } from '../../src/sending/collect/event.js';
import { createDatagramSource } from '../../src/sending/collect/sources/datagram.js';
import { trySendDatagram } from '../../src/sending/collect/sources/datagram-socket.js';
import { decodeDpv1 } from '../../src/sending/collect/sources/dpv1.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-dgram-prop-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const REAL2 = '{"dpv": "1","d": "example.org","pr": "v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1","policies":[{"policy-type":2,"policy-domain": "example.org","policy-string":["version: STSv1","mode: enforce","mx: *.mx.example.org","max_age: 604800"],"mx-host":["*.mx.example.org"],"failure-details":[{"c":204,"s": "192.0.2.10","n": "mx1.mx.example.org","h": "mx1.mx.example.org","r": "198.51.100.25","a": "cert \\"expired\\"\\tline2\\n","f": "x509: certificate has expired"}],"t":1,"f":1}]}';

async function send(p: string, b: Uint8Array): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (trySendDatagram(p, b)) return;
    await tick();
  }
  throw new Error('socket never drained');
}

/** A byte-level mutation of a valid datagram: flip, insert, delete, cut, duplicate a slice. */
const mutated = fc.tuple(fc.constantFrom(Buffer.from(REAL2)), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }))
  .map(([base, edits]) => {
    let b = Buffer.from(base);
    for (const [pos, kind, byte] of edits) {
      const i = pos % Math.max(b.length, 1);
      if (kind === 0) b[i] = byte;
      else if (kind === 1) b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
      else if (kind === 2) b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      else if (kind === 3) b = b.subarray(0, i);
      else b = Buffer.concat([b, b.subarray(i, i + 40)]);
    }
    return b;
  });

/** Datagram-shaped JSON with values of the wrong types and sizes in every position. */
const any = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.constant(''), fc.constant(901), fc.constant(204), fc.constant(2));
const shaped = fc.record({
  dpv: fc.oneof(fc.constant('1'), any),
  d: fc.oneof(fc.domain(), any),
  pr: fc.oneof(fc.constant('v=TLSRPTv1; rua=mailto:a@b.example'), any),
  policies: fc.oneof(any, fc.array(fc.oneof(any, fc.record({
    'policy-type': fc.oneof(fc.constantFrom(1, 2, 9), any),
    'policy-domain': fc.oneof(fc.domain(), any),
    'policy-string': fc.oneof(fc.array(fc.string()), any),
    'mx-host': fc.oneof(fc.array(fc.oneof(fc.string(), any)), any),
    'failure-details': fc.oneof(any, fc.array(fc.oneof(any, fc.record({ c: fc.oneof(fc.constantFrom(201, 204, 306), any), h: fc.oneof(fc.string(), any) }, { requiredKeys: [] })))),
    t: any,
    f: fc.oneof(fc.constantFrom(0, 1), any),
  }, { requiredKeys: [] })), { maxLength: 3 })),
}, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o)));

const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
  mutated,
  shaped,
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'undefined')),
  fc.string({ unit: 'binary' }).map((s) => Buffer.from(s)),
);

describe('datagram source: property', () => {
  it('never stops on arbitrary or mutated datagrams, and every valid datagram sent between them arrives', async () => {
    const p = path.join(dir, 'prop.sock');
    const outcomes: TlsSessionOutcome[] = [];
    const source = createDatagramSource({ path: p, log: silentLog, onOutcome: (o) => outcomes.push(o) });
    await source.start();
    let sent = 0;
    let markers = 0;
    let expectAccepted = 0;
    try {
      await fc.assert(fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 8 }), async (batch) => {
        for (const b of batch) {
          await send(p, b);
          sent++;
          if (decodeDpv1(b).ok) expectAccepted++;
          const marker = `m${markers++}.marker.test`;
          await send(p, Buffer.from(`{"dpv":"1","d":"${marker}","policies":[{"policy-type":9,"t":0,"f":0}]}`));
          sent++;
          expectAccepted++;
        }
      }), { numRuns: 300, seed: Number(process.env.FC_SEED ?? 20261128) });
      const deadline = Date.now() + 10_000;
      while (source.stats().received < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const st = source.stats();
      assert.equal(st.received, sent, 'every datagram was read');
      const got = outcomes.filter((o) => o.recipientDomain.endsWith('.marker.test')).map((o) => o.recipientDomain);
      assert.deepEqual(got, Array.from({ length: markers }, (_, i) => `m${i}.marker.test`), 'every valid marker arrived, in order');
      assert.equal(st.accepted, expectAccepted);
      const rejected = Object.entries(st.rejected).filter(([k]) => k !== 'unsupported-dpv').reduce((a, [, v]) => a + v, 0);
      assert.equal(st.accepted + rejected, st.received, 'each datagram is accepted or rejected with one reason');
      assert.equal(st.handlerErrors + st.receiveErrors, 0);
    } finally {
      await source.stop();
    }
  });
});

/** @module test/sending/datagram — the datagram source on a REAL unix datagram socket */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { silentLog } from '../../src/common/log.js';
import type { TlsSessionOutcome } from '../../src/sending/collect/event.js';
import { createDatagramSource, type DatagramSourceOptions } from '../../src/sending/collect/sources/datagram.js';
import { bindUnixDatagram, trySendDatagram, type DatagramBatch } from '../../src/sending/collect/sources/datagram-socket.js';
import { decodeDpv1Text } from '../../src/sending/collect/sources/dpv1.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-dgram-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const sockPath = () => path.join(dir, `s${++n}.sock`);

/** Sends like a patient sender: on a full queue, lets this process's event loop drain it. */
async function send(p: string, data: Buffer | string): Promise<void> {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  for (let i = 0; i < 100_000; i++) {
    if (trySendDatagram(p, b)) return;
    await tick();
  }
  throw new Error('socket never drained');
}
/** Waits until `cond` holds, letting the receiver run. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function startSource(extra: Partial<DatagramSourceOptions> = {}) {
  const outcomes: TlsSessionOutcome[] = [];
  const p = extra.path ?? sockPath();
  const source = createDatagramSource({ path: p, log: silentLog, onOutcome: (o) => outcomes.push(o), ...extra });
  await source.start();
  return { source, outcomes, path: p };
}

const REAL1 = '{"dpv": "1","d": "Example.NET","pr": "v=TLSRPTv1; rua=mailto:tlsrpt@example.net","policies":[{"policy-type":1,"policy-domain": "example.net","policy-string":["3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"],"t":0,"f":0}]}';
const REAL2 = '{"dpv": "1","d": "example.org","pr": "v=TLSRPTv1;rua=mailto:tls@example.org,https://tlsrpt.example.org/v1","policies":[{"policy-type":2,"policy-domain": "example.org","policy-string":["version: STSv1","mode: enforce","mx: *.mx.example.org","max_age: 604800"],"mx-host":["*.mx.example.org"],"failure-details":[{"c":204,"s": "192.0.2.10","n": "mx1.mx.example.org","h": "mx1.mx.example.org","r": "198.51.100.25","a": "cert \\"expired\\"\\tline2\\n","f": "x509: certificate has expired"}],"t":1,"f":1}]}';

/** A valid datagram of exactly `size` bytes; its additional-information is `pad` x's. */
function datagramOfSize(size: number, domain = 'big.example'): { bytes: Buffer; pad: number } {
  const head = `{"dpv":"1","d":"${domain}","policies":[{"policy-type":9,"failure-details":[{"c":201,"a":"`;
  const tail = '"}],"t":1,"f":1}]}';
  const pad = size - head.length - tail.length;
  return { bytes: Buffer.from(head + 'x'.repeat(pad) + tail), pad };
}

// The hostile datagrams of the acceptance check (shared/acceptance/dgram.py), with their reasons.
const HOSTILE: [string, Buffer][] = [
  ['not-json', Buffer.from('not json')],
  ['truncated', Buffer.from('{')],
  ['missing-domain', Buffer.from('{"dpv":"1"}')],
  ['unknown-policy-type', Buffer.from('{"dpv":"1","d":"x.test","policies":[{"policy-type":7,"t":0,"f":1}]}')],
  ['bad-policies', Buffer.from('{"dpv":"1","d":"x.test","policies":[5]}')],
  ['bad-policies', Buffer.from('{"dpv":"2","d":"x.test"}')], // also counted as unsupported-dpv
  ['invalid-utf8', Buffer.from('\xff\xfe\x00garbage', 'latin1')],
  ['unknown-result-type', Buffer.from('{"dpv":"1","d":"x.test","pr":"v=TLSRPTv1; rua=mailto:a@x.test","policies":[{"policy-type":2,"failure-details":[{"c":999}],"t":1,"f":1}]}')],
  ['not-an-object', Buffer.from('[]')],
  ['not-an-object', Buffer.from('null')],
  ['not-json', Buffer.from('{"dpv":"1","d":' + '"a'.repeat(1000) + '"}')],
];

describe('datagram source (real unix socket)', () => {
  it('turns the two real libtlsrpt datagrams into exactly the expected outcomes', async () => {
    const { source, outcomes, path: p } = await startSource();
    try {
      await send(p, REAL1);
      await send(p, REAL2);
      await until(() => outcomes.length === 2, 'two outcomes');
      const expected = [decodeDpv1Text(REAL1), decodeDpv1Text(REAL2)].map((r) => (r.ok ? r.outcome : assert.fail('fixture')));
      assert.deepEqual(outcomes, expected);
      assert.equal(outcomes[0].recipientDomain, 'example.net');
      assert.equal(outcomes[1].policies[0].failureDetails[0].resultType, 'certificate-expired');
      assert.deepEqual({ ...source.stats(), wakeups: 0 }, {
        received: 2, accepted: 2, receiveErrors: 0, handlerErrors: 0, dumped: 0, wakeups: 0,
        rejected: Object.fromEntries(Object.keys(source.stats().rejected).map((k) => [k, 0])),
      });
    } finally {
      await source.stop();
    }
  });

  it('receives 200 KiB and exactly 256 KiB datagrams whole; larger ones are counted as oversize, never parsed', async () => {
    const { source, outcomes, path: p } = await startSource();
    try {
      const d200 = datagramOfSize(200 * 1024, 'a200.example');
      const d256 = datagramOfSize(256 * 1024, 'a256.example');
      assert.equal(d256.bytes.length, 262144);
      await send(p, d200.bytes);
      await send(p, d256.bytes);
      await send(p, datagramOfSize(256 * 1024 + 1, 'over.example').bytes);
      await send(p, datagramOfSize(400 * 1024, 'over2.example').bytes);
      await send(p, REAL1);
      await until(() => source.stats().received === 5, 'five datagrams');
      assert.deepEqual(outcomes.map((o) => o.recipientDomain), ['a200.example', 'a256.example', 'example.net']);
      const info = (o: TlsSessionOutcome) => o.policies[0].failureDetails[0].additionalInformation;
      assert.equal(info(outcomes[0]), 'x'.repeat(d200.pad));
      assert.equal(info(outcomes[1]), 'x'.repeat(d256.pad));
      assert.equal(source.stats().rejected.oversize, 2);
    } finally {
      await source.stop();
    }
  });

  it('rejects every hostile datagram of the acceptance check with its reason; the valid ones around them all arrive', async () => {
    const { source, outcomes, path: p } = await startSource();
    try {
      // the same sequence as shared/acceptance/dgram.py
      const base = JSON.parse(REAL2);
      const okObj = { ...base, policies: [{ ...base.policies[0], t: 0, f: 0 }] };
      delete okObj.policies[0]['failure-details'];
      const okShuffled = { policies: okObj.policies, pr: okObj.pr, d: 'EXAMPLE.ORG.', dpv: '1' };
      const expected: Record<string, number> = {};
      let hostileSent = 0;
      const sendHostile = async ([why, bytes]: [string, Buffer]) => {
        expected[why] = (expected[why] ?? 0) + 1;
        hostileSent++;
        await send(p, bytes);
      };
      await send(p, REAL1);
      await send(p, REAL2);
      for (let i = 0; i < 800; i++) {
        if (i % 40 === 0) await sendHostile(HOSTILE[(i / 40) % HOSTILE.length]);
        await send(p, i < 500 ? JSON.stringify(i % 2 ? okShuffled : okObj) : REAL2);
      }
      for (const h of HOSTILE) await sendHostile(h);
      await until(() => source.stats().received === 802 + hostileSent, 'every datagram');
      const st = source.stats();
      assert.equal(outcomes.length, 802);
      assert.equal(st.accepted, 802);
      const rejected = Object.fromEntries(Object.entries(st.rejected).filter(([k, v]) => v > 0 && k !== 'unsupported-dpv'));
      assert.deepEqual(rejected, expected);
      assert.equal(st.rejected['unsupported-dpv'], expected['bad-policies'] / 2); // one of the two bad-policies datagrams has dpv "2"
      const exampleOrg = outcomes.filter((o) => o.recipientDomain === 'example.org');
      assert.equal(exampleOrg.length, 801);
      assert.equal(exampleOrg.filter((o) => o.policies[0].failed).length, 301);
      assert.equal(st.handlerErrors + st.receiveErrors, 0);
    } finally {
      await source.stop();
    }
  });

  it('survives a receive error: counts it, logs it and keeps receiving', async () => {
    const { source, outcomes, path: p } = await startSource();
    try {
      source.failNextReceive(5 /* EIO */);
      await send(p, REAL1);
      await send(p, REAL2);
      await until(() => outcomes.length === 2, 'both outcomes after the error');
      assert.equal(source.stats().receiveErrors, 1);
      source.failNextReceive(105 /* ENOBUFS */);
      await send(p, REAL1);
      await until(() => outcomes.length === 3, 'a third outcome');
      assert.equal(source.stats().receiveErrors, 2);
    } finally {
      await source.stop();
    }
  });

  it('keeps running when the consumer throws', async () => {
    let calls = 0;
    const { source, path: p } = await startSource({ onOutcome: () => { calls++; throw new Error('consumer bug'); } });
    try {
      await send(p, REAL1);
      await send(p, REAL1);
      await until(() => calls === 2, 'two calls');
      assert.equal(source.stats().handlerErrors, 2);
      assert.equal(source.stats().accepted, 0);
    } finally {
      await source.stop();
    }
  });

  it('logs rejections at most once per reason per 10 s, with the count', async () => {
    const lines: { reason?: string; count?: number; msg: string }[] = [];
    const sink = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
    let clock = 1_000_000;
    const { source, path: p } = await startSource({ log: pino({ level: 'info' }, sink), now: () => clock });
    try {
      for (let i = 0; i < 50; i++) await send(p, 'not json');
      await send(p, '[]');
      await until(() => source.stats().received === 51, 'all');
      const rejections = () => lines.filter((l) => l.reason);
      assert.deepEqual(rejections().map((l) => [l.reason, l.count]), [['not-json', 1], ['not-an-object', 1]]);
      clock += 10_000;
      await send(p, 'still not json');
      await until(() => source.stats().received === 52, 'one more');
      assert.deepEqual(rejections().map((l) => [l.reason, l.count]), [['not-json', 1], ['not-an-object', 1], ['not-json', 50]]);
      assert.equal(source.stats().rejected['not-json'], 51);
    } finally {
      await source.stop();
    }
  });

  it('a dpv "2" datagram that is stored is logged at info as read, not as rejected; stop reports the suppressed with a real interval', async () => {
    const lines: { level: number; reason?: string; count?: number; msg: string }[] = [];
    const sink = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
    let clock = 1_000_000;
    const { source, outcomes, path: p } = await startSource({ log: pino({ level: 'info' }, sink), now: () => clock });
    try {
      await send(p, REAL1.replace('"dpv": "1"', '"dpv": "2"'));
      await until(() => outcomes.length === 1, 'stored');
      const dpv = lines.filter((l) => l.reason === 'unsupported-dpv');
      assert.equal(dpv.length, 1);
      assert.equal(dpv[0].level, 30, 'info, not warn');
      assert.doesNotMatch(dpv[0].msg, /rejected/);
      assert.match(dpv[0].msg, /read as dpv 1/);
      for (let i = 0; i < 3; i++) await send(p, 'not json');
      await until(() => source.stats().received === 4, 'all');
      clock += 4_000;
    } finally {
      await source.stop();
    }
    const last = lines.filter((l) => l.reason === 'not-json').pop()!;
    assert.equal(last.count, 2);
    assert.match(last.msg, /in the last 4 s/);
    assert.doesNotMatch(JSON.stringify(lines), /Infinity/);
  });

  it('writes rejected datagrams to dumpDir, at most maxDumpFiles', async () => {
    const dumpDir = path.join(dir, 'dump');
    const { source, path: p } = await startSource({ dumpDir, maxDumpFiles: 3 });
    try {
      for (let i = 0; i < 5; i++) await send(p, `bad ${i}`);
      await until(() => source.stats().dumped === 3, 'three dumps');
      await new Promise((r) => setTimeout(r, 50));
      const files = readdirSync(dumpDir).sort((a, b) => Number(a.split('-')[2]) - Number(b.split('-')[2]));
      assert.equal(files.length, 3);
      assert.match(files[0], /-not-json\.dgram$/);
      assert.deepEqual(files.map((f) => readFileSync(path.join(dumpDir, f), 'utf8')), ['bad 0', 'bad 1', 'bad 2']);
      assert.equal(statSync(path.join(dumpDir, files[0])).mode & 0o777, 0o600);
    } finally {
      await source.stop();
    }
  });
});

describe('unix datagram socket (addon)', () => {
  it('sets the mode and owner, replaces a stale socket file, refuses a live one and a non-socket file, unlinks on close', async () => {
    const p = sockPath();
    const first = createDatagramSource({ path: p, mode: '0640', owner: process.getuid!(), group: process.getgid!(), log: silentLog, onOutcome: () => {} });
    await first.start();
    const st = statSync(p);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal(st.uid, process.getuid!());
    // a second receiver on a live socket is refused
    await assert.rejects(createDatagramSource({ path: p, log: silentLog, onOutcome: () => {} }).start(), /EADDRINUSE/);
    await first.stop();
    assert.throws(() => statSync(p), /ENOENT/);

    // a stale socket file (its process died without closing) is replaced
    const addon = path.resolve('native/unix-dgram/build/Release/unix_dgram.node');
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(addon)}).bind(${JSON.stringify(p)}, {}, () => {}, () => {}); process.exit(0)`]);
    assert.ok(statSync(p).isSocket());
    assert.throws(() => trySendDatagram(p, Buffer.from('x')), /ECONNREFUSED/);
    let got = 0;
    const second = createDatagramSource({ path: p, log: silentLog, onOutcome: () => got++ });
    await second.start();
    try {
      await send(p, REAL1);
      await until(() => got === 1, 'an outcome on the replaced socket');
    } finally {
      await second.stop();
    }

    const regular = path.join(dir, 'not-a-socket');
    writeFileSync(regular, 'keep me');
    await assert.rejects(createDatagramSource({ path: regular, log: silentLog, onOutcome: () => {} }).start(), /not a socket/);
    assert.equal(readFileSync(regular, 'utf8'), 'keep me');
    assert.throws(() => createDatagramSource({ path: p, mode: 'rw', log: silentLog, onOutcome: () => {} }), /octal/);
  });

  it('delivers datagrams in batches: threaded, poll with the shared arena, poll with a Buffer each', async () => {
    for (const [threaded, arrayMode, realtime] of [[true, false, false], [true, false, true], [false, false, false], [false, true, false]]) {
      const p = sockPath();
      const got: string[] = [];
      let batches = 0;
      const r = bindUnixDatagram(p, { arrayMode, threaded, realtime, batch: 8 }, (b: DatagramBatch) => {
        batches++;
        let off = 0;
        for (let i = 0; i < b.count; i++) {
          const len = b.lengths[i];
          got.push(arrayMode ? String(b.buffers![i]) : b.arena.toString('utf8', off, off + len));
          off += Math.max(len, 0);
        }
      }, (e) => assert.fail(e));
      try {
        for (let i = 0; i < 11; i++) assert.equal(trySendDatagram(p, Buffer.from(`m${i}`)), true); // the queue holds qlen + 1
        await until(() => got.length === 11, 'eleven datagrams');
        assert.deepEqual(got, Array.from({ length: 11 }, (_, i) => `m${i}`));
        assert.ok(batches <= 3, `${batches} batches for 11 datagrams with batch 8`);
        assert.equal(r.info().datagrams, 11);
        assert.equal(r.info().threaded, threaded);
        if (realtime && process.getuid!() === 0) assert.equal(r.info().realtime, true);
      } finally {
        r.close();
      }
    }
  });

  it('keeps receiving while the JS thread is blocked (threaded mode): the kernel queue does not overflow', async () => {
    const p = sockPath();
    let received = 0;
    // realtime as the source sets it (granted to root / CAP_SYS_NICE): other load on the machine must not decide the outcome
    const r = bindUnixDatagram(p, { realtime: true }, (b) => { received += b.count; }, (e) => assert.fail(e));
    try {
      const addon = path.resolve('native/unix-dgram/build/Release/unix_dgram.node');
      // a separate sender process: 400 datagrams at 1,000/s, non-blocking, no retry (like libtlsrpt)
      const script = `const a=require(${JSON.stringify(addon)});const d=Buffer.from(${JSON.stringify(REAL2)});` +
        `console.log('go');console.log(JSON.stringify(a.sendMany(${JSON.stringify(p)},d,new Int32Array([d.length]),400,{rate:1000})))`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      await lines.next();
      const until = Date.now() + 450;
      while (Date.now() < until) { /* the event loop is blocked, as by a long store flush */ }
      const [sent, dropped] = JSON.parse(String((await lines.next()).value)) as number[];
      // a loop-thread receiver keeps 11 of them (the kernel queue); a stall of the whole VM may still cost a few
      assert.ok(dropped < 40, `${dropped} of 400 datagrams dropped by the kernel while JS was busy`);
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(received, sent);
      assert.equal(sent + dropped, 400);
    } finally {
      r.close();
    }
  });

  it('reports a full queue as false (EAGAIN) and a missing socket as ENOENT', () => {
    const p = sockPath();
    const r = bindUnixDatagram(p, {}, () => {}, () => {});
    try {
      let sent = 0;
      while (trySendDatagram(p, Buffer.from('x')) && sent < 100_000) sent++;
      assert.ok(sent >= 1 && sent < 100_000, `queue took ${sent}`);
    } finally {
      r.close();
    }
    assert.throws(() => trySendDatagram(p, Buffer.from('x')), (e: Error & { code?: string }) => e.code === 'ENOENT');
  });
});

/** @module test/receiving/extract — extraction of report payloads from real files and e-mails, MIME variants, hard limits. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { extractReports, ExtractError } from '../../src/receiving/extract/index.js';

const FIX = path.resolve('test/fixtures/reports');
const fixture = (name: string) => readFileSync(path.join(FIX, name));
const REPORT = fixture('stalwart-mail-auth__rpt01.json');
const REPORT2 = fixture('stalwart-mail-auth__rpt02.json');
const json = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString('utf8'));

async function rejectsWith(input: Uint8Array | Promise<unknown>, code: string, limits?: Record<string, number>): Promise<ExtractError> {
  const started = performance.now();
  const p = input instanceof Uint8Array ? extractReports(input, limits) : input;
  try {
    await p;
  } catch (e) {
    // Every rejection, limits included, must be quick: the limits exist so input cannot cost much.
    const ms = performance.now() - started;
    assert.ok(ms < 2000, `rejection took ${ms.toFixed(0)} ms`);
    assert.ok(e instanceof ExtractError, `expected an ExtractError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected rejection with ${code}`);
}

// ---------------------------------------------------------------- e-mail builders
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n');

interface Part { headers: string[]; body: string }
function attachment(type: string, bytes: Uint8Array, opts: { name?: string; filename?: string; encoding?: 'base64' | '7bit' } = {}): Part {
  const enc = opts.encoding ?? 'base64';
  return {
    headers: [
      `Content-Type: ${type}${opts.name ? `; name="${opts.name}"` : ''}`,
      ...(opts.filename ? [`Content-Disposition: attachment;\r\n\tfilename="${opts.filename}"`] : []),
      `Content-Transfer-Encoding: ${enc}`,
    ],
    body: enc === 'base64' ? b64(bytes) : Buffer.from(bytes).toString('utf8'),
  };
}
const textPart = (text: string, type = 'text/plain; charset="us-ascii"'): Part => ({ headers: [`Content-Type: ${type}`, 'Content-Transfer-Encoding: 7bit'], body: text });

function multipart(contentType: string, boundary: string, parts: Part[]): string {
  return parts.map((p) => `--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n${p.body}\r\n`).join('') + `--${boundary}--\r\n`;
}

function mail(contentTypeLine: string, body: string, extraHeaders: string[] = []): Buffer {
  return Buffer.from([
    'From: TLS Reporting <tlsrpt@sender.example>',
    'To: rua@example.org',
    'Subject: Report Domain: example.org Submitter: sender.example Report-ID: <r1@sender.example>',
    'Message-ID: <m1@sender.example>',
    'Date: Tue, 02 Jan 2024 01:02:03 +0000',
    'TLS-Report-Domain: example.org',
    'TLS-Report-Submitter: sender.example',
    'MIME-Version: 1.0',
    ...extraHeaders,
    contentTypeLine,
    '',
    body,
  ].join('\r\n'));
}

function reportMail(parts: Part[], ct = 'multipart/report; report-type="tlsrpt"; boundary="BOUND"'): Buffer {
  return mail(`Content-Type: ${ct}`, multipart(ct, 'BOUND', parts));
}
const human = textPart('This is an aggregate TLS report from sender.example');

// ---------------------------------------------------------------- a small zip writer (independent of the reader)
interface ZipIn { name: string; data: Uint8Array; store?: boolean; declaredSize?: number }
function makeZip(entries: ZipIn[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const comp = e.store ? Buffer.from(e.data) : zlib.deflateRawSync(e.data);
    const name = Buffer.from(e.name);
    const crc = zlib.crc32(e.data);
    const usize = e.declaredSize ?? e.data.length;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(e.store ? 0 : 8, 8);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(usize, 22); lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(e.store ? 0 : 8, 10);
    ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(usize, 24); ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, comp);
    centrals.push(ch, name);
    offset += 30 + name.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const n = entries.length;
  const tail: Buffer[] = [];
  if (n > 0xffff) {
    const z64 = Buffer.alloc(56);
    z64.writeUInt32LE(0x06064b50, 0); z64.writeBigUInt64LE(44n, 4); z64.writeUInt16LE(45, 12); z64.writeUInt16LE(45, 14);
    z64.writeBigUInt64LE(BigInt(n), 24); z64.writeBigUInt64LE(BigInt(n), 32); z64.writeBigUInt64LE(BigInt(cd.length), 40); z64.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0); loc.writeBigUInt64LE(BigInt(offset + cd.length), 8); loc.writeUInt32LE(1, 16);
    tail.push(z64, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(Math.min(n, 0xffff), 8); eocd.writeUInt16LE(Math.min(n, 0xffff), 10);
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, ...tail, eocd]);
}

// ---------------------------------------------------------------- tests
describe('extractReports: the real-world samples', () => {
  const files = readdirSync(FIX).filter((f) => f.endsWith('.json') || f.endsWith('.eml'));
  it('has the samples to test', () => assert.ok(files.length >= 15));
  for (const f of files) {
    it(`extracts ${f}`, async () => {
      const bytes = fixture(f);
      const { payloads, message } = await extractReports(bytes);
      assert.equal(payloads.length, 1);
      const doc = json(payloads[0].bytes);
      assert.ok(Array.isArray(doc.policies), 'the payload is a report');
      if (f.endsWith('.json')) {
        assert.equal(message.isEmail, false);
        assert.deepEqual(doc, json(bytes));
      } else {
        assert.equal(message.isEmail, true);
        assert.ok(message.tlsReportDomain && message.tlsReportSubmitter && message.from && message.subject);
        const twin = f.replace(/\.eml$/, '.json');
        if (files.includes(twin)) assert.deepEqual(doc, json(fixture(twin)));
      }
    });
  }
  it('reads the headers of the Google mail (unquoted report-type after the boundary)', async () => {
    const { payloads, message } = await extractReports(fixture('parsedmarc__google.com_smtp_tls_report.eml'));
    assert.deepEqual({ ...message }, {
      isEmail: true, from: 'noreply-smtp-tls-reporting@google.com',
      subject: 'Report Domain: cardinalhealth.ca Submitter: google.com Report-ID: <2024.09.03T00.00.00Z+cardinalhealth.ca@google.com>',
      messageId: '<66d83c20.050a0220.a0566.1e8dtls@google.com>', tlsReportDomain: 'cardinalhealth.ca', tlsReportSubmitter: 'google.com',
      date: '2024-09-04T10:53:20.000Z',
    });
    assert.equal(payloads[0].filename, 'google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz');
    assert.match(payloads[0].source, /^part 2 application\/tlsrpt\+gzip/);
    assert.equal(json(payloads[0].bytes)['report-id'], '2024-09-03T00:00:00Z_cardinalhealth.ca');
  });
});

describe('extractReports: bare files', () => {
  it('reads .json.gz, .zip, JSON with BOM and leading whitespace', async () => {
    for (const input of [zlib.gzipSync(REPORT), makeZip([{ name: 'r.json', data: REPORT }]), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\r\n  '), REPORT])]) {
      const { payloads } = await extractReports(input);
      assert.deepEqual(json(payloads[0].bytes), json(REPORT));
    }
  });
  it('tolerates trailing CRLF or garbage after the gzip member, and reads concatenated members', async () => {
    const gz = zlib.gzipSync(REPORT);
    for (const tail of ['\r\n', 'garbage after the member', '\x1f']) {
      const { payloads } = await extractReports(Buffer.concat([gz, Buffer.from(tail, 'latin1')]));
      assert.deepEqual(json(payloads[0].bytes), json(REPORT));
    }
    const half = Math.floor(REPORT.length / 2);
    const two = Buffer.concat([zlib.gzipSync(REPORT.subarray(0, half)), zlib.gzipSync(REPORT.subarray(half))]);
    assert.deepEqual(json((await extractReports(two)).payloads[0].bytes), json(REPORT));
  });
  it('returns every JSON entry of a zip, stored or deflated, and a .json.gz inside a zip', async () => {
    const zip = makeZip([{ name: 'a.json', data: REPORT }, { name: 'dir/', data: new Uint8Array() }, { name: 'b.json', data: REPORT2, store: true }, { name: 'c.json.gz', data: zlib.gzipSync(REPORT) }, { name: 'readme.txt', data: Buffer.from('hello') }]);
    const { payloads } = await extractReports(zip);
    assert.deepEqual(payloads.map((p) => p.filename), ['a.json', 'b.json', 'c.json.gz']);
    assert.deepEqual(json(payloads[1].bytes), json(REPORT2));
  });
  it('rejects what is not a report: XML, text, empty input, DMARC zip, corrupt gzip', async () => {
    await rejectsWith(Buffer.from('<?xml version="1.0"?><feedback/>'), 'not-a-tls-report');
    await rejectsWith(Buffer.from(''), 'not-a-tls-report');
    await rejectsWith(Buffer.from([0, 1, 2, 3, 255]), 'not-a-tls-report');
    await rejectsWith(makeZip([{ name: 'dmarc.xml', data: Buffer.from('<feedback/>') }]), 'not-a-tls-report');
    await rejectsWith(zlib.gzipSync(REPORT).subarray(0, 40), 'invalid-gzip');
    await rejectsWith(Buffer.from('PK\x03\x04 not really a zip'), 'invalid-zip');
  });
});

describe('extractReports: MIME shapes', () => {
  const gz = zlib.gzipSync(REPORT);
  const cases: [string, Buffer][] = [
    ['application/tlsrpt+gzip', reportMail([human, attachment('application/tlsrpt+gzip', gz, { name: 'r.json.gz', filename: 'r.json.gz' })])],
    ['application/gzip', reportMail([human, attachment('application/gzip', gz, { filename: 'r.json.gz' })])],
    ['application/x-gzip', reportMail([human, attachment('application/x-gzip', gz)])],
    ['application/octet-stream holding gzip', reportMail([human, attachment('application/octet-stream', gz, { filename: 'r.bin' })])],
    ['application/zip', reportMail([human, attachment('application/zip', makeZip([{ name: 'r.json', data: REPORT }]), { filename: 'r.zip' })])],
    ['application/tlsrpt+zip', reportMail([human, attachment('application/tlsrpt+zip', makeZip([{ name: 'r.json', data: REPORT }]))])],
    ['+gzip label on plain JSON', reportMail([human, attachment('application/tlsrpt+gzip', REPORT, { filename: 'r.json.gz' })])],
    ['application/tlsrpt+json 7bit', reportMail([human, attachment('application/tlsrpt+json', REPORT, { encoding: '7bit', filename: 'r.json' })])],
    ['application/tlsrpt (no suffix)', reportMail([human, attachment('application/tlsrpt', REPORT, { filename: 'r.json' })])],
    ['filename= without name=', reportMail([human, attachment('application/octet-stream', gz, { filename: 'google.com!example.org!1!2.json.gz' })])],
    ['unquoted report-type after the boundary', reportMail([human, attachment('application/tlsrpt+gzip', gz)], 'multipart/report; boundary=BOUND; report-type=tlsrpt')],
    ['multipart/mixed', reportMail([human, attachment('application/tlsrpt+gzip', gz)], 'multipart/mixed; boundary="BOUND"')],
    ['HTML-only human part and an extra empty text part', reportMail([textPart('<p>report</p>', 'text/html'), attachment('application/tlsrpt+gzip', gz), textPart('')])],
    ['inline text/plain holding the JSON', reportMail([human, textPart(REPORT.toString('utf8'), 'text/plain; charset=utf-8')])],
    ['single-part mail whose body is the JSON', mail('Content-Type: application/tlsrpt+json', REPORT.toString('utf8'))],
    ['base64 of gzip left in a 7bit part', reportMail([human, { headers: ['Content-Type: application/tlsrpt+gzip'], body: b64(gz) }])],
    ['gzip with trailing CRLF inside the attachment', reportMail([human, attachment('application/tlsrpt+gzip', Buffer.concat([gz, Buffer.from('\r\n\r\n')]))])],
    ['nested multipart/alternative + mixed', mail('Content-Type: multipart/mixed; boundary="OUT"', multipart('', 'OUT', [
      { headers: ['Content-Type: multipart/alternative; boundary="ALT"'], body: multipart('', 'ALT', [human, textPart('<b>x</b>', 'text/html')]) },
      attachment('application/tlsrpt+gzip', gz, { filename: 'r.json.gz' }),
    ]))],
  ];
  for (const [title, raw] of cases) {
    it(`finds the report: ${title}`, async () => {
      const { payloads, message } = await extractReports(raw);
      assert.equal(payloads.length, 1, payloads.map((p) => p.source).join(', '));
      assert.deepEqual(json(payloads[0].bytes), json(REPORT));
      assert.equal(message.tlsReportDomain, 'example.org');
      assert.equal(message.messageId, '<m1@sender.example>');
    });
  }
  it('decodes quoted-printable parts, RFC 2231 and RFC 2047 names, bare-LF mail, a missing close delimiter', async () => {
    const qp = REPORT.toString('utf8').replace(/=/g, '=3D').replace(/(.{60})/g, '$1=\r\n');
    const r1 = await extractReports(reportMail([human, { headers: ['Content-Type: application/tlsrpt+json', 'Content-Transfer-Encoding: quoted-printable', "Content-Disposition: attachment; filename*0*=utf-8''r%C3%A9port; filename*1=.json"], body: qp }]));
    assert.deepEqual(json(r1.payloads[0].bytes), json(REPORT));
    assert.equal(r1.payloads[0].filename, 'réport.json');
    const r2 = await extractReports(reportMail([attachment('application/gzip', gz, { name: '=?UTF-8?B?csOpcG9ydA==?=.json.gz' })]));
    assert.equal(r2.payloads[0].filename, 'réport.json.gz');
    const lf = Buffer.from(reportMail([human, attachment('application/tlsrpt+gzip', gz)]).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    assert.equal((await extractReports(lf)).payloads.length, 1);
    const open = Buffer.from(reportMail([human, attachment('application/tlsrpt+gzip', gz)]).toString('latin1').replace(/--BOUND--\r\n$/, ''), 'latin1');
    assert.equal((await extractReports(open)).payloads.length, 1);
    const subj = mail('Content-Type: application/tlsrpt+json', REPORT.toString('utf8'), ['Subject: =?utf-8?q?Report_Domain=3A?= =?utf-8?b?IGV4YW1wbGUub3Jn?=']);
    // The extra Subject comes first in the header list, so it wins, decoded and joined.
    const m = (await extractReports(Buffer.from(subj.toString('latin1').replace(/^Subject: Report Domain: example.org .*\r\n/m, ''), 'latin1'))).message;
    assert.equal(m.subject, 'Report Domain: example.org');
  });
  it('reads multipart/digest parts as forwarded messages (RFC 2046 §5.1.5)', async () => {
    const inner = fixture('stalwart-mail-auth__rpt02.eml').toString('utf8');
    // A digest part without headers: the delimiter line, an empty line, then the message.
    const digest = mail('Content-Type: multipart/digest; boundary="DIG"', `--DIG\r\n\r\n${inner}\r\n--DIG--\r\n`);
    const { payloads } = await extractReports(digest);
    assert.deepEqual(json(payloads[0].bytes), json(REPORT2));
    assert.match(payloads[0].source, /^part 1 message\/rfc822 > /);
  });
  it('keeps the filename given only as filename=', async () => {
    const { payloads } = await extractReports(cases[9][1]);
    assert.equal(payloads[0].filename, 'google.com!example.org!1!2.json.gz');
  });
  it('returns all reports of a mail with two attachments', async () => {
    const raw = reportMail([human, attachment('application/tlsrpt+gzip', gz, { filename: 'a.json.gz' }), attachment('application/tlsrpt+gzip', zlib.gzipSync(REPORT2), { filename: 'b.json.gz' })]);
    const { payloads } = await extractReports(raw);
    assert.deepEqual(payloads.map((p) => p.filename), ['a.json.gz', 'b.json.gz']);
    assert.deepEqual(json(payloads[1].bytes), json(REPORT2));
    assert.match(payloads[1].source, /^part 3 application\/tlsrpt\+gzip \(b\.json\.gz\)$/);
  });
  it('follows a forwarded report (message/rfc822), plain or base64, and exposes the inner message', async () => {
    const inner = fixture('stalwart-mail-auth__rpt01.eml');
    for (const enc of ['7bit', 'base64'] as const) {
      const fwd = mail('Content-Type: multipart/mixed; boundary="FWD"', multipart('', 'FWD', [
        textPart('FYI, forwarded'),
        { headers: ['Content-Type: message/rfc822', `Content-Transfer-Encoding: ${enc}`, 'Content-Disposition: inline'], body: enc === 'base64' ? b64(inner) : inner.toString('utf8') },
      ]));
      const { payloads, message } = await extractReports(fwd);
      assert.equal(payloads.length, 1);
      assert.deepEqual(json(payloads[0].bytes), json(REPORT));
      assert.match(payloads[0].source, /^part 2 message\/rfc822 > part 2 application\/tlsrpt\+gzip/);
      assert.equal(message.forwarded?.length, 1);
      assert.equal(message.forwarded![0].message.tlsReportSubmitter, 'mail.sender.example.com');
      assert.ok(Buffer.from(message.forwarded![0].raw).toString('latin1').includes('TLS-Report-Domain: example.net'));
    }
  });
  it('classifies DMARC aggregate mail, bounces and cron mail as not-a-tls-report', async () => {
    const dmarc = reportMail([textPart('DMARC aggregate report'), attachment('application/gzip', zlib.gzipSync('<?xml version="1.0"?><feedback></feedback>'), { filename: 'google.com!example.org!1!2.xml.gz' })], 'multipart/mixed; boundary="BOUND"');
    const dmarcZip = reportMail([attachment('application/zip', makeZip([{ name: 'x.xml', data: Buffer.from('<feedback/>') }]))], 'multipart/mixed; boundary="BOUND"');
    const bounce = reportMail([textPart('Delivery failed'), { headers: ['Content-Type: message/delivery-status'], body: 'Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@example.org\r\nAction: failed\r\nStatus: 5.1.1' }, { headers: ['Content-Type: text/rfc822-headers'], body: 'From: a@b\r\nSubject: hi' }], 'multipart/report; report-type=delivery-status; boundary="BOUND"');
    const cron = mail('Content-Type: text/plain', 'Cron <root@host> run-parts /etc/cron.daily\r\n{ this is not json');
    for (const raw of [dmarc, dmarcZip, bounce, cron]) await rejectsWith(raw, 'not-a-tls-report');
  });
  it('names the broken attachment when a labelled report is corrupt', async () => {
    const e = await rejectsWith(reportMail([human, attachment('application/tlsrpt+gzip', zlib.gzipSync(REPORT).subarray(0, 30), { filename: 'r.json.gz' })]), 'invalid-gzip');
    assert.match(e.message, /r\.json\.gz/);
    const e2 = await rejectsWith(reportMail([human, attachment('application/tlsrpt+json', Buffer.from('<html>'))]), 'not-a-tls-report');
    assert.match(e2.message, /labelled application\/tlsrpt\+json/);
  });
  it('keeps a good report when another attachment is corrupt', async () => {
    const raw = reportMail([human, attachment('application/gzip', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2])), attachment('application/tlsrpt+gzip', gz)]);
    assert.equal((await extractReports(raw)).payloads.length, 1);
  });
  it('reads an mbox-style message with a From_ line', async () => {
    const raw = Buffer.concat([Buffer.from('From tlsrpt@sender.example Tue Jan  2 01:02:03 2024\n'), reportMail([human, attachment('application/tlsrpt+gzip', gz)])]);
    assert.equal((await extractReports(raw)).payloads.length, 1);
  });
});

describe('extractReports: hard limits', () => {
  // rejectsWith() asserts each rejection takes < 2 s; building the inputs is not timed.
  const quick = async (f: () => Promise<unknown>): Promise<void> => { await f(); };
  it('refuses a 50 MB e-mail before parsing it (too-large)', () => quick(async () => {
    const raw = Buffer.alloc(50 * 1024 * 1024 + 1, 'a');
    Buffer.from('From: a@b\r\nSubject: big\r\n\r\n').copy(raw);
    const e = await rejectsWith(raw, 'too-large');
    assert.match(e.message, /52428801 bytes/);
  }));
  it('honours a smaller maxInputBytes', async () => { await rejectsWith(REPORT, 'too-large', { maxInputBytes: 100 }); });
  it('refuses a gzip bomb (decompressed-too-large) without inflating it all', () => quick(async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 });
    const before = process.memoryUsage().arrayBuffers;
    await rejectsWith(bomb, 'decompressed-too-large');
    await rejectsWith(reportMail([human, attachment('application/tlsrpt+gzip', bomb)]), 'decompressed-too-large');
    assert.ok(process.memoryUsage().arrayBuffers - before < 120 * 1024 * 1024);
  }));
  it('refuses highly compressed data below the size cap (compression-ratio)', () => quick(async () => {
    await rejectsWith(zlib.gzipSync(Buffer.alloc(5 * 1024 * 1024)), 'compression-ratio');
  }));
  it('honours a smaller maxDecompressedBytes, summed over all payloads', async () => {
    const gz = zlib.gzipSync(REPORT);
    await rejectsWith(gz, 'decompressed-too-large', { maxDecompressedBytes: 1000 });
    const two = reportMail([attachment('application/gzip', gz), attachment('application/gzip', gz)]);
    assert.equal((await extractReports(two, { maxDecompressedBytes: REPORT.length * 2 })).payloads.length, 2);
    await rejectsWith(two, 'decompressed-too-large', { maxDecompressedBytes: REPORT.length * 2 - 1 });
  });
  it('refuses a zip bomb by its declared size, and one that lies about its size', () => quick(async () => {
    const declared = makeZip([{ name: 'r.json', data: REPORT, declaredSize: 0xfffffff0 }]);
    await rejectsWith(declared, 'decompressed-too-large');
    const lying = makeZip([{ name: 'r.json', data: Buffer.alloc(60 * 1024 * 1024), declaredSize: 1000 }]);
    await rejectsWith(lying, 'decompressed-too-large');
    await rejectsWith(makeZip([{ name: 'r.json', data: Buffer.alloc(5 * 1024 * 1024) }]), 'compression-ratio');
  }));
  it('refuses a zip with 100k entries (zip-too-many-entries)', () => quick(async () => {
    const entries = Array.from({ length: 100_000 }, (_, i) => ({ name: `${i}.json`, data: Buffer.from('{}'), store: true }));
    const zip = makeZip(entries);
    await rejectsWith(zip, 'zip-too-many-entries');
    await rejectsWith(makeZip(entries.slice(0, 101)), 'zip-too-many-entries');
    await rejectsWith(makeZip(entries.slice(0, 3)), 'zip-too-many-entries', { maxZipEntries: 2 });
  }));
  it('stays linear on hostile shapes (no hang, no memory blow-up)', () => quick(async () => {
    const M = 10 * 1024 * 1024;
    await rejectsWith(Buffer.concat([Buffer.from('From: a@b\n'), Buffer.alloc(M, '\n')]), 'not-a-tls-report');
    await rejectsWith(Buffer.concat([Buffer.from('From: a@b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n'), Buffer.from('--bx\r\n'.repeat(M / 6))]), 'malformed-mime');
    await rejectsWith(Buffer.concat([Buffer.from('From: '), Buffer.alloc(M, 'a')]), 'malformed-mime');
    await rejectsWith(Buffer.from('X-A: b\r\n'.repeat(10_000) + '\r\n{}'), 'malformed-mime');
    await rejectsWith(Buffer.concat([Buffer.from('From: a@b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'), Buffer.from('=\r\n'.repeat(M / 3))]), 'not-a-tls-report');
    const before = process.memoryUsage().rss;
    await rejectsWith(Buffer.concat([Buffer.from('From: a@b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n'), Buffer.alloc(4 * M, 'A')]), 'not-a-tls-report');
    assert.ok(process.memoryUsage().rss - before < 400 * 1024 * 1024);
  }));
  it('refuses too many MIME parts and too deep nesting', () => quick(async () => {
    const many = reportMail(Array.from({ length: 10_000 }, () => textPart('x')));
    await rejectsWith(many, 'too-many-parts');
    await rejectsWith(reportMail(Array.from({ length: 600 }, () => textPart('x'))), 'too-many-parts');
    let body = '{}';
    let ct = 'application/json';
    for (let i = 0; i < 100; i++) {
      body = multipart('', `B${i}`, [{ headers: [`Content-Type: ${ct}`], body }]);
      ct = `multipart/mixed; boundary="B${i}"`;
    }
    await rejectsWith(mail(`Content-Type: ${ct}`, body), 'mime-too-deep');
    let msg: Buffer = reportMail([attachment('application/tlsrpt+json', REPORT, { encoding: '7bit' })]);
    for (let i = 0; i < 30; i++) msg = mail('Content-Type: message/rfc822', msg.toString('latin1'));
    await rejectsWith(msg, 'mime-too-deep');
  }));
});

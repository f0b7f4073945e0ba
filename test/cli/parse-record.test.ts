/** @module test/cli/parse-record — `tlsrpt parse` and `tlsrpt record` as a user runs them (real processes, a real loopback DNS server). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';

const BIN = path.resolve('bin/tlsrpt.js');
const FIX = path.resolve('test/fixtures/reports');

function tlsrpt(args: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
const lines = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('tlsrpt parse', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-parse-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one ok line per real-world sample, with totals, and exits 0', async () => {
    const files = readdirSync(FIX).filter((f) => /\.(json|eml)$/.test(f)).map((f) => path.join(FIX, f));
    const r = await tlsrpt(['parse', '--json', ...files]);
    assert.equal(r.code, 0, r.stderr);
    const out = lines(r.stdout);
    assert.deepEqual(out.map((l) => l.file), files);
    for (const l of out) {
      assert.equal(l.ok, true, JSON.stringify(l));
      assert.deepEqual(l.reports[0], l.report);
      assert.ok(Array.isArray(l.findings));
    }
    const google = out.find((l) => l.file.endsWith('google.com_smtp_tls_report.eml'));
    assert.equal(google.report.policies[0].summary.totalSuccessfulSessionCount, 48); // as Python's email+gzip+json read it
    assert.equal(google.email.tlsReportSubmitter, 'google.com');
    const mailru = out.find((l) => l.file.endsWith('mail.ru.json'));
    assert.ok(mailru.findings.some((f: { code: string }) => f.code === 'detail-sum-mismatch'), JSON.stringify(mailru.findings));
  });

  it('sniffs .json.gz, .zip and misnamed files; reports every report of a mail', async () => {
    const rpt = readFileSync(path.join(FIX, 'stalwart-mail-auth__rpt01.json'));
    const rpt2 = readFileSync(path.join(FIX, 'stalwart-mail-auth__rpt02.json'));
    writeFileSync(path.join(dir, 'r.json.gz'), Buffer.concat([zlib.gzipSync(rpt), Buffer.from('\r\n')]));
    writeFileSync(path.join(dir, 'misnamed.txt'), zlib.gzipSync(rpt2));
    const two = ['From: a@sender.example', 'TLS-Report-Domain: example.org', 'Content-Type: multipart/report; report-type=tlsrpt; boundary=B', '', '--B',
      'Content-Type: application/tlsrpt+gzip', 'Content-Transfer-Encoding: base64', '', zlib.gzipSync(rpt).toString('base64'), '--B',
      'Content-Type: application/tlsrpt+json', '', rpt2.toString(), '--B--', ''].join('\r\n');
    writeFileSync(path.join(dir, 'two.eml'), two);
    const r = await tlsrpt(['parse', path.join(dir, 'r.json.gz'), path.join(dir, 'misnamed.txt'), path.join(dir, 'two.eml')]);
    assert.equal(r.code, 0, r.stderr);
    const [gz, misnamed, both] = lines(r.stdout);
    assert.equal(gz.report.reportId, '5065427c-23d3-47ca-b6e0-946ea0e8c4be');
    assert.equal(misnamed.report.reportId, '2020-01-01T00:00:00Z_example.com');
    assert.deepEqual(both.reports.map((x: { reportId: string }) => x.reportId), ['5065427c-23d3-47ca-b6e0-946ea0e8c4be', '2020-01-01T00:00:00Z_example.com']);
    assert.ok(both.findings.every((f: { report?: number }) => f.report === 0 || f.report === 1));
  });

  it('says why a file is not a report, and exits 1', async () => {
    writeFileSync(path.join(dir, 'dmarc.xml.gz'), zlib.gzipSync('<?xml version="1.0"?><feedback/>'));
    writeFileSync(path.join(dir, 'other.json'), '{"hello": "world"}');
    writeFileSync(path.join(dir, 'huge.eml'), '');
    truncateSync(path.join(dir, 'huge.eml'), 50 * 1024 * 1024 + 1);
    writeFileSync(path.join(dir, 'bomb.gz'), zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024)));
    const good = path.join(FIX, 'parsedmarc__rfc8460.json');
    const r = await tlsrpt(['parse', good, path.join(dir, 'dmarc.xml.gz'), path.join(dir, 'other.json'), path.join(dir, 'missing.json'), dir, path.join(dir, 'huge.eml'), path.join(dir, 'bomb.gz')]);
    assert.equal(r.code, 1);
    const out = lines(r.stdout);
    assert.deepEqual(out.map((l) => l.ok), [true, false, false, false, false, false, false]);
    assert.deepEqual(out.slice(1).map((l) => l.error.code), ['not-a-tls-report', 'not-a-tls-report', 'unreadable', 'unreadable', 'too-large', 'decompressed-too-large']);
    for (const l of out.slice(1)) assert.ok(l.error.message.length > 10);
  });

  it('exits 2 without files or with an unknown option', async () => {
    const none = await tlsrpt(['parse']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name at least one report file/);
    assert.equal((await tlsrpt(['parse', '--nope', 'x'])).code, 2);
  });
});

describe('tlsrpt record', () => {
  let dns: DnsTestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-record-'));
    dns = await startDnsServer({
      '_smtp._tls.example.org': { TXT: [['v=TLSRPTv1; rua=mailto:tls@example.org,', 'https://reports.example.org/tlsrpt, ftp://x.example']] },
      '_smtp._tls.two.example': { TXT: [['v=TLSRPTv1; rua=mailto:a@two.example'], ['v=TLSRPTv1; rua=mailto:b@two.example']] },
      '_smtp._tls.xn--bcher-kva.example': { TXT: [['v=TLSRPTv1; rua=mailto:tls@xn--bcher-kva.example']] },
      '_smtp._tls.slow.example': { drop: true },
    });
  });
  after(async () => { await dns.close(); rmSync(dir, { recursive: true, force: true }); });

  it('looks the record up with --dns and prints usable and ignored targets', async () => {
    const r = await tlsrpt(['record', 'example.org', '--dns', dns.servers[0]]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^_smtp\._tls\.example\.org: "v=TLSRPTv1; rua=mailto:tls@example\.org,https:/);
    assert.match(r.stdout, /usable rua targets:\n {2}mailto:tls@example\.org\n {2}https:\/\/reports\.example\.org\/tlsrpt\nignored:\n {2}ftp:\/\/x\.example \(/);
    const j = await tlsrpt(['record', 'EXAMPLE.org.', '--dns', dns.servers[0], '--json']);
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.rua, [{ scheme: 'mailto', uri: 'mailto:tls@example.org', address: 'tls@example.org' }, { scheme: 'https', uri: 'https://reports.example.org/tlsrpt', url: 'https://reports.example.org/tlsrpt' }]);
    assert.equal(doc.name, '_smtp._tls.example.org');
  });

  it('uses dns.servers from the config file, and IDN A-labels', async () => {
    writeFileSync(path.join(dir, 'tlsrpt.json'), JSON.stringify({ dns: { servers: dns.servers } }));
    const r = await tlsrpt(['record', 'bücher.example'], dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /mailto:tls@xn--bcher-kva\.example/);
  });

  it('exits 1 with the reason when the policy is unusable or the lookup fails', async () => {
    const none = await tlsrpt(['record', 'missing.example', '--dns', dns.servers[0]]);
    assert.equal(none.code, 1);
    assert.match(none.stdout, /unusable: no TXT record at _smtp\._tls\.missing\.example/);
    const two = await tlsrpt(['record', 'two.example', '--dns', dns.servers[0], '--json']);
    assert.equal(two.code, 1);
    assert.match(JSON.parse(two.stdout).reason, /2 v=TLSRPTv1 records/);
    const slow = await tlsrpt(['record', 'slow.example', '--dns', dns.servers[0], '--timeout', '100']);
    assert.equal(slow.code, 1);
    assert.match(slow.stderr, /timed out.*--dns HOST:PORT/);
  });

  it('parses --txt (RFC 8460 §3 vectors)', async () => {
    const vectors: [number, string][] = [
      [0, 'v=TLSRPTv1;rua=mailto:reports@example.org'],
      [0, 'v=TLSRPTv1; rua=https://reports.example.org/tlsrpt,mailto:tls@example.org;'],
      [0, 'v=TLSRPTv1; future-ext=abc; rua=mailto:tls@example.org'],
      [1, 'v=TLSRPTv2; rua=mailto:tls@example.org'],
      [1, 'v=TLSRPTv1'],
      [1, 'v=TLSRPTv1; rua=ftp://example.org/x'],
      [1, 'v=TLSRPTv1; rua=mailto:tls@example.org; bad ext=1'],
    ];
    const results = await Promise.all(vectors.map(([, txt]) => tlsrpt(['record', '--txt', txt, '--json'])));
    vectors.forEach(([code, txt], i) => {
      assert.equal(results[i].code, code, txt);
      assert.equal(JSON.parse(results[i].stdout).ok, code === 0);
    });
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [['record'], ['record', 'example.org', '--txt', 'v=TLSRPTv1'], ['record', 'bad name!.example..', '--dns', dns.servers[0]], ['record', 'example.org', '--dns', 'nonsense']]) {
      const r = await tlsrpt(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.length > 0);
    }
  });
});

describe('output to a pipe', () => {
  it('a reader that stops early (`| head -1`) ends the command quietly, exit 0', async () => {
    const { spawn } = await import('node:child_process');
    const files = readdirSync(FIX).filter((f) => /\.json$/.test(f)).map((f) => path.join(FIX, f));
    // Many copies so the output outgrows the pipe buffer after the reader has gone.
    const child = spawn(process.execPath, [BIN, 'parse', '--json', ...Array(40).fill(files).flat()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  });
});

/**
 * `tlsrpt import`: files, nested folders, maildirs (cur/new; tmp and Dovecot index files
 * skipped) and mbox files (split on From lines, >From unescaped), via `importPaths` on both
 * stores and via the real command (counts, --json, exit codes).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.js';
import { forEachStore } from '../support/stores.js';
import { createResolver, mailauthResolver } from '../../src/dns/index.js';
import { createIngestor } from '../../src/receiving/pipeline/ingest.js';
import { importPaths } from '../../src/receiving/sources/import.js';
import { walkInputs } from '../../src/receiving/sources/files.js';
import { silentLog } from '../../src/common/log.js';
import { buildReportMail } from './support/report-mail.js';
import { FIXTURES, makeReport } from './support/reports.js';

let dns: DnsTestServer;
let dir: string;
before(async () => {
  dns = await startDnsServer({});
  dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-import-test-'));
});
after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

let serial = 0;
const report = () => makeReport({ submitter: 'sender.example', policyDomain: 'example.org', successful: 900 + ++serial });
const mail = () => buildReportMail({ reportJson: report(), policyDomain: 'example.org', submitter: 'sender.example' });

/** A tree with every kind of input: returns the root and what it should count. */
function makeTree(root: string) {
  mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  writeFileSync(path.join(root, 'a/one.json'), report());
  writeFileSync(path.join(root, 'a/b/two.json.gz'), gzipSync(report()));
  writeFileSync(path.join(root, 'a/b/c/three.eml'), mail());
  writeFileSync(path.join(root, 'a/b/c/notes.txt'), 'not a report\n');
  writeFileSync(path.join(root, 'a/.hidden.json'), report()); // hidden: skipped
  const zipDir = path.join(root, 'ztmp');
  mkdirSync(zipDir);
  writeFileSync(path.join(zipDir, 'r.json'), report());
  execFileSync('zip', ['-q', '-j', path.join(root, 'a/four.zip'), path.join(zipDir, 'r.json')]);
  rmSync(zipDir, { recursive: true });
  // Maildir with a Maildir++ sub-folder and Dovecot's files.
  const md = path.join(root, 'Maildir');
  for (const d of ['cur', 'new', 'tmp', '.Reports/cur', '.Reports/new', '.Reports/tmp']) mkdirSync(path.join(md, d), { recursive: true });
  writeFileSync(path.join(md, 'cur/1.host:2,S'), mail());
  writeFileSync(path.join(md, 'new/2.host'), mail());
  writeFileSync(path.join(md, 'tmp/3.host'), mail()); // in delivery: skipped
  writeFileSync(path.join(md, '.Reports/cur/4.host:2,'), mail());
  writeFileSync(path.join(md, 'dovecot-uidlist'), '3 V1 N5\n');
  writeFileSync(path.join(md, 'dovecot.index.log'), Buffer.alloc(100, 1));
  writeFileSync(path.join(md, 'subscriptions'), 'Reports\n');
  // mbox: three messages, one body line quoted as >From, one non-report.
  const lf = (b: Buffer) => b.toString('latin1').replace(/\r\n/g, '\n');
  const withFrom = lf(mail()).replace('This is an aggregate TLS report', '>From the reporter: this is an aggregate TLS report');
  const mbox = [
    `From reporter@sender.example Mon Nov 23 10:00:00 2026\n${lf(mail())}\n`,
    `From cron@example.org Mon Nov 23 10:01:00 2026\nFrom: cron@example.org\nSubject: cron\n\n>From here on nothing is a report (quoted by the mbox writer).\n\n`,
    `From reporter@sender.example Mon Nov 23 10:02:00 2026\n${withFrom}\n`,
  ].join('');
  writeFileSync(path.join(root, 'reports.mbox'), mbox);
  // imported: one, two, three, four, cur/1, new/2, .Reports/4, mbox 1 and 3 = 9; not a report: notes.txt, mbox 2
  return { imported: 9, notReport: 2 };
}

describe('walkInputs', () => {
  it('visits files, folders, maildirs and mbox messages in a stable order, skipping tmp/ and hidden files', async () => {
    const root = path.join(dir, 'walk');
    makeTree(root);
    const seen: string[] = [];
    for await (const i of walkInputs([root], { maxInputBytes: 1_000_000 })) seen.push(path.relative(root, i.source));
    assert.deepEqual(seen, [
      'Maildir/.Reports/cur/4.host:2,', 'Maildir/cur/1.host:2,S', 'Maildir/new/2.host',
      'a/b/c/notes.txt', 'a/b/c/three.eml', 'a/b/two.json.gz', 'a/four.zip', 'a/one.json',
      'reports.mbox message 1', 'reports.mbox message 2', 'reports.mbox message 3',
    ]);
  });

  it('unescapes >From in mbox bodies and drops the separator blank line', async () => {
    const file = path.join(dir, 'one.mbox');
    writeFileSync(file, 'From a@b Thu Jan  1 00:00:00 2026\nSubject: x\n\n>From me\n>>From you\nFrom-line-like but not\n\nFrom c@d Thu Jan  1 00:00:00 2026\nSubject: y\n\nbody\n');
    const msgs: string[] = [];
    for await (const i of walkInputs([file], { maxInputBytes: 1000 })) if (i.kind === 'input') msgs.push(Buffer.from(i.bytes).toString());
    assert.deepEqual(msgs, ['Subject: x\n\nFrom me\n>From you\nFrom-line-like but not\n', 'Subject: y\n\nbody\n']);
  });

  it('reports oversized files and mbox messages, and missing paths, as problems without reading them', async () => {
    const big = path.join(dir, 'big.json');
    writeFileSync(big, Buffer.alloc(5000, 0x20));
    const mbox = path.join(dir, 'big.mbox');
    writeFileSync(mbox, `From a@b Thu Jan  1 00:00:00 2026\nSubject: x\n\n${'y'.repeat(5000)}\n\nFrom c@d Thu Jan  1 00:00:00 2026\nSubject: small\n\nok\n`);
    const out = [];
    for await (const i of walkInputs([big, mbox, path.join(dir, 'missing')], { maxInputBytes: 1000 })) out.push(i.kind === 'problem' ? `${i.status}:${i.code}` : 'input');
    assert.deepEqual(out, ['rejected:too-large', 'rejected:too-large', 'input', 'failed:unreadable']);
  });
});

forEachStore('importPaths', (open) => {
  it('imports every kind of input once; a second run finds only duplicates', async () => {
    const store = await open();
    const root = path.join(dir, `tree-${store.kind}`);
    const want = makeTree(root);
    const ingestor = createIngestor({ store, log: silentLog, resolver: mailauthResolver(createResolver({ servers: dns.servers })) });
    const first = await importPaths([root], { ingestor, maxInputBytes: 10_000_000 });
    assert.deepEqual(first.counts, { imported: want.imported, duplicate: 0, 'not-a-report': want.notReport, rejected: 0, failed: 0 }, JSON.stringify(first.problems));
    assert.equal(first.inputs, want.imported + want.notReport);
    const second = await importPaths([root], { ingestor, maxInputBytes: 10_000_000, concurrency: 3 });
    assert.deepEqual(second.counts, { imported: 0, duplicate: want.imported, 'not-a-report': want.notReport, rejected: 0, failed: 0 });
  });
});

describe('tlsrpt import (the command)', () => {
  const tlsrpt = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, TLSRPT_LOG_LEVEL: 'warn' }, timeout: 60_000 });

  it('prints the counts (--json too) and exits 0; exits 1 when an input failed', async () => {
    const root = path.join(dir, 'cli');
    mkdirSync(root);
    for (const f of ['parsedmarc__smtp_tls.json', 'stalwart-mail-auth__rpt02.eml', 'stalwart-mail-auth__rpt02.json']) copyFileSync(path.join(FIXTURES, f), path.join(root, f));
    writeFileSync(path.join(root, 'junk.bin'), Buffer.from([0, 1, 2, 3]));
    const cfg = path.join(dir, 'cli.json');
    writeFileSync(cfg, JSON.stringify({ store: { sqlite: path.join(dir, 'cli.db') }, dns: { servers: dns.servers } }));

    const text = tlsrpt(['import', '--config', cfg, root]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^imported 2, duplicate 1, not-a-report 1, rejected 0, failed 0 \(4 inputs in [\d.]+ s\)\n$/);
    assert.match(text.stderr, /not-a-report: .*junk\.bin/);

    // In this thread (--threads 0): the same verdicts.
    const inThread = tlsrpt(['import', '--threads', '0', '--config', cfg, root]);
    assert.equal(inThread.status, 0, inThread.stderr);
    assert.match(inThread.stdout, /^imported 0, duplicate 3, not-a-report 1, rejected 0, failed 0 /);

    const json = tlsrpt(['import', '--json', '--config', cfg, root]);
    assert.equal(json.status, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.deepEqual([parsed.imported, parsed.duplicate, parsed['not-a-report'], parsed.failed, parsed.inputs], [0, 3, 1, 0, 4]);
    assert.equal(parsed.problems[0].code, 'not-a-tls-report');

    const unreadable = path.join(root, 'locked.json');
    writeFileSync(unreadable, '{}');
    chmodSync(unreadable, 0o000);
    const missing = tlsrpt(['import', '--json', '--config', cfg, path.join(root, 'nope.json'), ...(userInfo().uid === 0 ? [] : [unreadable])]);
    assert.equal(missing.status, 1, missing.stderr);
    assert.equal(JSON.parse(missing.stdout).failed, userInfo().uid === 0 ? 1 : 2);

    const usage = tlsrpt(['import', '--concurrency', '0', root]);
    assert.equal(usage.status, 2);
  });
});

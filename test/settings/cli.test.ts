/** @module test/settings/cli — `tlsrpt expr` and `tlsrpt settings show|validate|set` as a user runs them (real process, real SQLite file). */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = path.resolve('bin/tlsrpt.js');
const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-settings-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function tlsrpt(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, TLSRPT_LOG_LEVEL: 'error' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

writeFileSync(path.join(dir, 'tlsrpt.json'), JSON.stringify({
  store: { sqlite: './data/t.db' },
  SystemSettings: { domain: 'example.org', hostname: 'mx.example.org' },
  TlsReportSettings: { sendFrequency: { else: 'hourly' } },
}));

describe('tlsrpt expr', () => {
  it('prints the value of an expression with variables and system()', async () => {
    const r = await tlsrpt('expr', "'noreply-tls@' + system('domain') + ' for ' + rcpt_domain", '--var', 'rcpt_domain=example.com');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'noreply-tls@example.org for example.com\n');
    const j = await tlsrpt('expr', '--json', "split('a.b', '.')");
    assert.equal(j.stdout, '["a","b"]\n');
  });
  it('exits 1 with the position on a parse error', async () => {
    const r = await tlsrpt('expr', '(1 + 2');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /expected '\)' at position 6/);
    assert.match(r.stderr, /\n {2}\(1 \+ 2\n {8}\^\n/);
  });
});

describe('tlsrpt settings', () => {
  it('validate: exit 0 on a valid file, 1 with every error (field and position)', async () => {
    writeFileSync(path.join(dir, 'good.json'), JSON.stringify({ TlsReportSettings: { sendFrequency: { match: { 0: { if: "ends_with(rcpt_domain, '.gov')", then: 'hourly' } }, else: 'daily' } } }));
    const good = await tlsrpt('settings', 'validate', 'good.json');
    assert.equal(good.code, 0, good.stderr);
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({
      TlsReportSettings: { sendFrequency: { else: 'monthly' }, subject: { else: "'a' + " } },
      ReportSettings: { outboundReportSubmitter: { else: 'system(' } },
    }));
    const bad = await tlsrpt('settings', 'validate', 'bad.json');
    assert.equal(bad.code, 1);
    const lines = bad.stderr.trim().split('\n');
    assert.equal(lines.length, 3, bad.stderr);
    assert.match(lines[0], /TlsReportSettings\.sendFrequency\.else: monthly is not a value of sendFrequency \(position 0\); expected hourly, daily, weekly, never/);
    assert.match(lines[1], /TlsReportSettings\.subject\.else: expected a value at position 6/);
    assert.match(lines[2], /ReportSettings\.outboundReportSubmitter\.else: expected a value at position 7/);
  });
  it('set stores a validated field; show tells default, file and stored apart; a field the file sets is locked', async () => {
    writeFileSync(path.join(dir, 'tlsrpt.json'), JSON.stringify({
      store: { sqlite: './data/t.db' },
      SystemSettings: { domain: 'example.org', hostname: 'mx.example.org' },
      TlsReportSettings: { sendFrequency: { else: 'hourly' } },
    }));
    // A read command does not create the database.
    const none = await tlsrpt('settings', 'show', '--json');
    assert.equal(none.code, 1);
    assert.deepEqual(JSON.parse(none.stdout).error.code, 'no-database');
    assert.match(JSON.parse(none.stdout).error.message, /no database at .*t\.db — is --config right\?/);
    const refused = await tlsrpt('settings', 'set', 'TlsReportSettings', 'subject', "'Report ' + (rcpt_domain");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /TlsReportSettings\.subject\.else: expected '\)' at position 24/);
    const ok = await tlsrpt('settings', 'set', 'TlsReportSettings', 'subject', "'Report for ' + rcpt_domain");
    assert.equal(ok.code, 0, ok.stderr);
    const locked = await tlsrpt('settings', 'set', 'TlsReportSettings', 'sendFrequency', 'weekly');
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /TlsReportSettings\.sendFrequency: set in the config file/);
    const after = JSON.parse((await tlsrpt('settings', 'show', '--json')).stdout);
    assert.equal(after.TlsReportSettings.origin, 'stored');
    assert.deepEqual(after.TlsReportSettings.fields.subject, { value: { else: "'Report for ' + rcpt_domain" }, source: 'stored', locked: false, inForce: "the operator's expression" });
    assert.deepEqual(after.TlsReportSettings.fields.sendFrequency, { value: { else: 'hourly' }, source: 'file', locked: true });
    assert.equal(after.ReportSettings.fields.outboundReportSubmitter.source, 'default');
    const usage = await tlsrpt('settings', 'set', 'NoSuchSettings', 'x', '1');
    assert.equal(usage.code, 2);
    const human = await tlsrpt('settings', 'show');
    assert.match(human.stdout, /subject +'Report for ' \+ rcpt_domain +\[stored\]/);
    assert.match(human.stdout, /sendFrequency +hourly +\[file, locked/);
    // No warning repeated by every command about the file and the store differing.
    assert.doesNotMatch(human.stderr, /differs/);
  });
});

/**
 * @module test/cli/config — the config traps as a user meets them, through the real `tlsrpt`
 * process: `config path`, read commands that never create a database, errors as JSON with
 * `--json` and the exit codes the help promises, and `serve` that names a busy address and
 * prints a generated admin token only after it started.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = path.resolve('bin/tlsrpt.js');
const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-cli-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function tlsrpt(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, TLSRPT_LOG_LEVEL: 'error', ...opts.env };
  if (!opts.env?.TLSRPT_CONFIG) delete env.TLSRPT_CONFIG;
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? dir, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('tlsrpt config path', () => {
  it('prints the file in use and how it was found', async () => {
    const cwd = path.join(dir, 'lookup');
    mkdirSync(cwd);
    const none = await tlsrpt(['config', 'path', '--json'], { cwd });
    assert.equal(none.code, 0, none.stderr);
    // The machine may have /etc/tlsrpt/tlsrpt.json; without it, the defaults.
    const expected = existsSync('/etc/tlsrpt/tlsrpt.json') ? { file: '/etc/tlsrpt/tlsrpt.json', source: '/etc/tlsrpt/tlsrpt.json' } : { file: null, source: 'defaults' };
    assert.deepEqual(JSON.parse(none.stdout), expected);
    writeFileSync(path.join(cwd, 'tlsrpt.json'), '{}');
    assert.deepEqual(JSON.parse((await tlsrpt(['config', 'path', '--json'], { cwd })).stdout), { file: path.join(cwd, 'tlsrpt.json'), source: './tlsrpt.json' });
    const other = path.join(dir, 'other.json');
    writeFileSync(other, '{}');
    const env = await tlsrpt(['config', 'path'], { cwd, env: { TLSRPT_CONFIG: other } });
    assert.equal(env.stdout, `${other}\n`);
    assert.match(env.stderr, /found by TLSRPT_CONFIG/);
    const missing = await tlsrpt(['config', 'path', '--config', 'nope.json', '--json'], { cwd });
    assert.equal(missing.code, 2);
    assert.equal(JSON.parse(missing.stdout).error.code, 'invalid-config');
  });
});

describe('read commands never create a database', () => {
  const db = path.join(dir, 'nodb', 'tlsrpt.db');
  const cfg = path.join(dir, 'ro.json');
  writeFileSync(cfg, JSON.stringify({ store: { sqlite: db } }));
  for (const args of [['inbound', 'list'], ['inbound', 'summary'], ['inbound', 'show', '1'], ['outbound', 'list'], ['outbound', 'preview', 'example.org'], ['settings', 'show']]) {
    it(`${args.join(' ')}: "no database at X — is --config right?", exit 1`, async () => {
      const human = await tlsrpt([...args, '--config', cfg]);
      assert.equal(human.code, 1, human.stderr);
      assert.match(human.stderr, /no database at .*nodb\/tlsrpt\.db — is --config right\?/);
      assert.equal(existsSync(db), false);
      assert.equal(existsSync(path.dirname(db)), false);
      if (args[1] === 'show' && args[0] === 'inbound') return; // has no --json
      const json = await tlsrpt([...args, '--config', cfg, '--json']);
      assert.equal(json.code, 1);
      const body = JSON.parse(json.stdout);
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message']);
      assert.equal(body.error.code, 'no-database');
    });
  }
});

describe('errors and exit codes', () => {
  it('2 for usage and for an invalid config, naming the key; JSON with --json', async () => {
    const usage = await tlsrpt(['inbound', 'list', '--no-such-option']);
    assert.equal(usage.code, 2);
    const cfg = path.join(dir, 'typo.json');
    writeFileSync(cfg, JSON.stringify({ http: { tokn: 'x' } }));
    const bad = await tlsrpt(['outbound', 'list', '--config', cfg]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /http\.tokn: unknown key \(did you mean "token"\?\)/);
    const json = await tlsrpt(['outbound', 'list', '--config', cfg, '--json']);
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stdout).error.code, 'invalid-config');
    const syntax = path.join(dir, 'syntax.json');
    writeFileSync(syntax, '{\n  "store": {"sqlite": "x.db"}\n  "http": {}\n}');
    const s = await tlsrpt(['settings', 'validate', syntax]);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /not valid JSON: line 3, column 3: expected ',' or '}'/);
    const help = await tlsrpt(['--help']);
    assert.match(help.stdout, /Exit codes: 0 ok, 1 failed, 2 usage or configuration error/);
  });
});

describe('serve', () => {
  it('names a busy address and prints no token; prints the generated token only once started', { timeout: 180_000 }, async () => {
    const busy = createServer();
    await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
    const port = (busy.address() as { port: number }).port;
    const cfg = path.join(dir, 'serve.json');
    writeFileSync(cfg, JSON.stringify({ store: { sqlite: 'serve/t.db' }, http: { listen: `127.0.0.1:${port}` }, SystemSettings: { domain: 'example.org', hostname: 'mx.example.org' } }));
    try {
      const failed = await tlsrpt(['serve', '--config', cfg]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, new RegExp(`cannot listen on http\\.listen 127\\.0\\.0\\.1:${port}: the address is already in use`));
      assert.doesNotMatch(failed.stderr, /generated (the|an) admin API token/);
    } finally {
      busy.close();
    }
    // The database lies next to the config file, whatever the working directory.
    assert.ok(existsSync(path.join(dir, 'serve', 't.db')));
    // Nothing was stored for the lost token: the next successful start generates and prints one.
    writeFileSync(cfg, JSON.stringify({ store: { sqlite: 'serve/t.db' }, http: { listen: '127.0.0.1:0' }, SystemSettings: { domain: 'example.org', hostname: 'mx.example.org' } }));
    const child = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { cwd: tmpdir(), env: { ...process.env, TLSRPT_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        log += d;
        if (log.includes('http listening')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
    });
    const exited = new Promise((res) => child.on('exit', res));
    child.kill('SIGTERM');
    await exited;
    // Not a terminal: the token goes to a 0600 file next to the database, and only its path is logged (issue 10).
    const tokenFile = path.join(dir, 'serve', 'admin-token');
    assert.match(readFileSync(tokenFile, 'utf8'), /^\S{16,}\n$/);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.ok(log.indexOf('generated an admin API token') > log.indexOf('"component":"delivery"'), 'announced after the components started');
  });
});

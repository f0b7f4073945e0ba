/** @module test/store/serve-default — `tlsrpt serve` with no config creates ./data/tlsrpt.db and stops cleanly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

test('serve with no config file runs on ./data/tlsrpt.db', { timeout: 60_000 }, async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'tlsrpt-serve-'));
  try {
    const child = spawn(process.execPath, [path.resolve('bin/tlsrpt.js'), 'serve'], {
      cwd,
      env: { ...process.env, TLSRPT_HTTP_LISTEN: '127.0.0.1:0', TLSRPT_STORE: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const listening = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        log += d;
        if (log.includes('http listening')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code} before listening:\n${log}`)));
    });
    await listening;
    assert.ok(existsSync(path.join(cwd, 'data', 'tlsrpt.db')), 'data/tlsrpt.db exists');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0, log);
    assert.match(log, /"applied":\[[^\]]*"0001_core"/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

/**
 * @module test/production/tarball — what an operator installs: `npm pack`, then
 * `npm install -g ./tlsrpt-hub-*.tgz` into a temporary prefix (the native socket addon and
 * better-sqlite3 compile there; packages come from npm's cache when it has them). The installed
 * `tlsrpt` runs compiled JavaScript only: no TypeScript tooling in the package, a fast `--help`.
 * Slow (a minute or more: better-sqlite3 compiles), so everything is checked on one install.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-tarball-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Best of `n` wall-clock runs, in seconds (the machine is shared: the best run is the program's own cost). */
function bestOf(n: number, cmd: string, args: string[]): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exits 0`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

test('npm pack, npm install -g of the tarball, then a fast tlsrpt without TypeScript tooling', { timeout: 900_000 }, () => {
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!;
  const tgz = path.join(dir, packed);
  assert.ok(existsSync(tgz), `npm pack made ${tgz}`);
  const listing = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n');
  for (const want of ['package/bin/tlsrpt.js', 'package/dist/cli/main.js', 'package/lib/collector.js', 'package/dist/sending/library.d.ts',
    'package/native/unix-dgram/binding.gyp', 'package/contrib/systemd/tlsrpt-collector.socket', 'package/README.md', 'package/LICENSE']) {
    assert.ok(listing.includes(want), `the tarball carries ${want}`);
  }
  for (const unwanted of ['package/src/', 'package/test/', 'package/bench/', 'package/native/unix-dgram/build/']) {
    assert.ok(!listing.some((f) => f.startsWith(unwanted)), `the tarball carries nothing under ${unwanted}`);
  }

  const prefix = path.join(dir, 'prefix');
  const install = spawnSync('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, tgz], { encoding: 'utf8' });
  assert.equal(install.status, 0, `npm install -g failed:\n${install.stderr}`);
  const pkg = path.join(prefix, 'lib/node_modules/tlsrpt-hub');
  const bin = path.join(prefix, 'bin/tlsrpt');
  assert.ok(existsSync(path.join(pkg, 'native/unix-dgram/build/Release/unix_dgram.node')), 'the datagram addon was built at install');
  const installed = readdirSync(path.join(pkg, 'node_modules'));
  for (const tool of ['tsx', 'typescript', 'esbuild', '@types']) assert.ok(!installed.includes(tool), `the installed package carries no ${tool}`);

  const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
  assert.match(help, /Usage: tlsrpt/);
  // A command that loads the configuration and the expression engine runs too.
  assert.equal(execFileSync(bin, ['expr', '1 + 2'], { encoding: 'utf8', cwd: dir }).trim(), '3');

  const node = bestOf(5, process.execPath, ['-e', '0']);
  const tlsrpt = bestOf(5, bin, ['--help']);
  process.stderr.write(`tarball: tlsrpt --help ${(tlsrpt * 1000).toFixed(0)} ms, node -e 0 ${(node * 1000).toFixed(0)} ms (${(tlsrpt / node).toFixed(1)}x)\n`);
  assert.ok(tlsrpt <= 4 * node, `tlsrpt --help takes ${(tlsrpt * 1000).toFixed(0)} ms, ${(tlsrpt / node).toFixed(1)}x a bare node start (want <= 4x)`);
});

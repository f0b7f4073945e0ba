// Runs every *.test.ts under test/ with node:test (Node 20 does not expand globs itself).
// Given file arguments, runs just those. Starts ONE throwaway PostgreSQL 15 cluster for the
// whole run and hands its URL to the test processes in TLSRPT_TEST_PG (test/support/postgres.ts);
// if it cannot start, the PostgreSQL tests fail with the reason (they are never skipped).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// Tests that start bin/tlsrpt.js run dist/: build it first when a source is newer.
const built = spawnSync(process.execPath, [new URL('./ensure-built.mjs', import.meta.url).pathname], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const files = process.argv.slice(2).length ? process.argv.slice(2) : find('test').sort();

let cluster;
const env = { ...process.env };
if (!env.TLSRPT_TEST_PG) {
  const { startPostgres } = await tsImport('../test/support/postgres.ts', import.meta.url);
  const t0 = Date.now();
  try {
    cluster = await startPostgres();
    env.TLSRPT_TEST_PG = cluster.url;
    process.stderr.write(`run-tests: PostgreSQL 15 test cluster on 127.0.0.1:${cluster.port} (${Date.now() - t0} ms)\n`);
  } catch (e) {
    process.stderr.write(`run-tests: could not start the PostgreSQL test cluster; PostgreSQL tests will fail:\n${e.message}\n`);
  }
}
const stopCluster = () => cluster?.stopSync();
process.on('exit', stopCluster);

const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  stopCluster();
  process.exit(code ?? (signal ? 1 : 0));
});

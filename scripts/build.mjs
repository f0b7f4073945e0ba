// `npm run build` (and npm's `prepare`, run by `npm ci` in a checkout and before `npm pack`):
// each step is an npm script, run in order when package.json has it — add a step by adding its
// script here. build:ts compiles src/ to dist/ afresh (files moved or deleted in src/ must not
// linger in what is shipped); the web UI build writes dist/web/ and is left alone.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const STEPS = ['build:ts', 'build:web', 'build:man'];
const { scripts = {} } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

const dist = path.join(root, 'dist');
for (const name of safeList(dist)) if (name !== 'web') rmSync(path.join(dist, name), { recursive: true, force: true });

for (const step of STEPS.filter((s) => scripts[s])) {
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', '--silent', step], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${step} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
  console.error(`build: ${step} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
// scripts/test rebuilds when a source is newer than this stamp.
writeFileSync(path.join(dist, '.built'), `${new Date().toISOString()}\n`);

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

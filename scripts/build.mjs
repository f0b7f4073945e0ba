// `npm run build` (and npm's `prepare`, run by `npm ci` in a checkout and before `npm pack`):
// each step is an npm script, run in order when package.json has it — add a step by adding its
// script here. build:ts compiles src/ to dist/ incrementally; compiled files whose source was
// moved or deleted are removed after it (they must not linger in what is shipped). The web UI
// build writes dist/web/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const STEPS = ['build:ts', 'build:web', 'build:man'];
const { scripts = {} } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

const dist = path.join(root, 'dist');
// `npm pack` of a tree whose dev tools are not installed (a copied checkout without node_modules)
// ships the dist/ that is there, built by `npm ci`, rather than failing: there is no compiler to run.
if (!existsSync(path.join(root, 'node_modules/.bin/tsc'))) {
  if (existsSync(path.join(dist, 'cli/main.js')) && existsSync(path.join(dist, '.built'))) {
    console.error('build: no TypeScript compiler installed (node_modules/.bin/tsc); packing the existing dist/');
    process.exit(0);
  }
  console.error('build: no TypeScript compiler installed and no dist/ to pack: run `npm ci` first');
  process.exit(1);
}
// tsc's incremental state says nothing about the files on disk: a deleted dist/ would stay empty.
if (!existsSync(path.join(dist, 'cli/main.js'))) rmSync(path.join(root, 'node_modules/.cache/tlsrpt-hub'), { recursive: true, force: true });
// Outputs of the other build steps, at the top of dist/.
const OTHER_OUTPUTS = new Set(['web', 'man', '.built']);
for (const step of STEPS.filter((s) => scripts[s])) {
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', '--silent', step], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${step} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
  if (step === 'build:ts') pruneOrphans(dist, path.join(root, 'src'));
  console.error(`build: ${step} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
// scripts/test rebuilds when a source is newer than this stamp.
writeFileSync(path.join(dist, '.built'), `${new Date().toISOString()}\n`);

/** Removes compiled files and folders of dist/ whose source in src/ is gone. */
function pruneOrphans(out, src, top = true) {
  for (const name of readdirSync(out)) {
    if (top && OTHER_OUTPUTS.has(name)) continue;
    const p = path.join(out, name);
    if (statSync(p).isDirectory()) {
      if (existsSync(path.join(src, name))) pruneOrphans(p, path.join(src, name), false);
      else rmSync(p, { recursive: true, force: true });
      continue;
    }
    const m = /^(.*?)\.(js|d\.ts)$/.exec(name);
    if (!m || !existsSync(path.join(src, `${m[1]}.ts`))) rmSync(p);
  }
}

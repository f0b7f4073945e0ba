// Rebuilds dist/ (`npm run build`) when it is missing or a source is newer than the last build
// (dist/.built, written by scripts/build.mjs). Run by scripts/setup and scripts/run-tests.mjs, so
// `scripts/serve` and the tests that start bin/tlsrpt.js always run the code of the checkout.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of readdirSync(p)) m = Math.max(m, newest(path.join(p, name)));
  return m;
}

let built = 0;
try {
  built = statSync(path.join(root, 'dist/.built')).mtimeMs;
} catch { /* never built */ }
const inputs = ['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) => path.join(root, f));
if (Math.max(...inputs.map(newest)) > built) {
  process.stderr.write(`${built ? 'dist/ is older than src/' : 'no dist/ yet'}: npm run build\n`);
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// Builds the unix-dgram addon with the node-gyp that ships with npm, against the headers of
// the running Node when they are installed (no download: machines may have no internet).
// Run by `npm ci` / `npm install` (package.json "install") and by `npm run build:native`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const prefix = path.dirname(path.dirname(process.execPath));

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(path.dirname(process.env.npm_execpath)), 'node_modules/node-gyp/bin/node-gyp.js'));
  candidates.push(path.join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

const gyp = findNodeGyp();
const args = ['rebuild', '-C', here];
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' })
  : spawnSync('node-gyp', args, { stdio: 'inherit', shell: false });
if (r.status !== 0) {
  console.error(`unix-dgram addon: build failed (${r.error?.message ?? `exit ${r.status}`}). It needs a C compiler, make and python3; ` +
    'then run `npm run build:native`.');
  process.exit(1);
}

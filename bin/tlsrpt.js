#!/usr/bin/env node
// The `tlsrpt` command: runs the compiled JavaScript in dist/ (built by `npm ci` / `npm run build`).
// No compiler runs here, and nothing is cached or loaded from a temporary folder.
// `serve` is a daemon measured in MiB (issue 12): its young generation stays at the initial 1 MiB
// semi-space instead of growing to 16 MiB while modules load and keeping it (~10 MiB of RSS).
// Set here, before anything is loaded; V8 reads the flag at each young-generation resize.
if (process.argv[2] === 'serve') (await import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
try {
  await import('../dist/cli/main.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('/dist/cli/main.js')) {
    process.stderr.write('tlsrpt: dist/ is missing: run `npm run build` in the checkout (npm ci does it)\n');
    process.exit(2);
  }
  throw e;
}

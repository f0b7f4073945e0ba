#!/usr/bin/env node
// The `tlsrpt` command: runs the compiled JavaScript in dist/ (built by `npm ci` / `npm run build`).
// No compiler runs here, and nothing is cached or loaded from a temporary folder.
// `serve` runs with the V8 flags of serve-v8-flags.js (a footprint budget, issue 12).
if (process.argv[2] === 'serve') (await import('node:v8')).setFlagsFromString((await import('./serve-v8-flags.js')).SERVE_V8_FLAGS);
try {
  await import('../dist/cli/main.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('/dist/cli/main.js')) {
    process.stderr.write('tlsrpt: dist/ is missing: run `npm run build` in the checkout (npm ci does it)\n');
    process.exit(2);
  }
  throw e;
}

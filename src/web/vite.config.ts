// Vite build of the web UI: src/web → dist/web (index.html + hashed assets/), no inline script
// (the server's CSP forbids it), no module-preload polyfill (an inline snippet), no CDN.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: path.resolve(here, '../../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    modulePreload: { polyfill: false },
    // Keep every asset a file: an inlined data: URL script would need a CSP exception.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});

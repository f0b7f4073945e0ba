// `npm run build:man`: dist/man/tlsrpt.1 from the compiled CLI (`tlsrpt man`), installed by npm
// with the package ("man" in package.json), so `man tlsrpt` works after `npm install -g`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

mkdirSync('dist/man', { recursive: true });
writeFileSync('dist/man/tlsrpt.1', execFileSync(process.execPath, ['bin/tlsrpt.js', 'man']));

// `npm run bench -- NAME [args]` runs bench/NAME (bench/NAME.ts or bench/NAME/index.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const [name, ...args] = process.argv.slice(2);
const list = () => readdirSync('bench').map((f) => f.replace(/\.ts$/, '')).join(', ');
if (!name) {
  console.error(`usage: npm run bench -- NAME   (one of: ${list()})`);
  process.exit(2);
}
const file = existsSync(`bench/${name}.ts`) ? `bench/${name}.ts` : `bench/${name}/index.ts`;
if (!existsSync(file)) {
  console.error(`no benchmark ${name} (have: ${list()})`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', file, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);

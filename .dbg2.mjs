import { chromium } from 'playwright-core';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
const p = await b.newPage({ viewport: { width: 1280, height: 800 } });
p.on('console', (m) => m.type() !== 'verbose' && console.log('console', m.type(), m.text()));
p.on('pageerror', (e) => console.log('pageerror', e.message));
await p.goto('http://127.0.0.1:18480/');
await p.fill('#token', 'bar-token-0123456789'); await p.click('button[type=submit]');
await p.waitForTimeout(1000);
for (const path of process.argv.slice(2)) {
  await p.goto('http://127.0.0.1:18480' + path);
  await p.waitForTimeout(1500);
  console.log('=====', path); console.log((await p.innerText('main')).slice(0, 1500));
  await p.screenshot({ path: `/tmp/webui/${path.replace(/\W+/g, '_')}.png` });
}
await b.close();

/**
 * @module test/web/support/ui-harness — what the browser tests stand on: the web build (made
 * when missing or older than src/web), a real service (`startService`, as `tlsrpt serve` runs)
 * on a loopback port with reports posted to its public endpoint, and Debian's Chromium driven by
 * playwright-core (stack.md launch flags). Screenshots go to test-output/web/ (gitignored).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startService, type RunningService } from '../../../src/service.js';
import { loadConfig } from '../../../src/settings/config.js';
import { silentLog } from '../../../src/common/log.js';

export const TOKEN = 'browser-test-token-0123456789';
export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = path.resolve('test-output/web');
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

/** Runs `npm run build:web` unless dist/web is newer than every file under src/web. */
export function ensureWebBuild(): void {
  const index = path.resolve('dist/web/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(path.resolve('src/web'))) return;
  const r = spawnSync('npm', ['run', 'build:web'], { stdio: 'pipe', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build:web failed:\n${r.stdout}\n${r.stderr}`);
}

/** The report of the acceptance check: script payloads in every stranger-written field. */
export function hostileReport(day: string) {
  return {
    'organization-name': '<img src=x onerror="window.__pwned=1">',
    'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` },
    'contact-info': 'tls@xss-reporter.example',
    'report-id': '</script><script>window.__pwned=2</script>',
    policies: [{
      policy: { 'policy-type': 'sts', 'policy-domain': 'xss-target.example',
        'policy-string': ['version: STSv1', 'mode: enforce', 'mx: <svg onload=window.__pwned=3>'], 'mx-host': ['<b>mx</b>'] },
      summary: { 'total-successful-session-count': 4242, 'total-failure-session-count': 17 },
      'failure-details': [{ 'result-type': 'certificate-expired', 'receiving-mx-hostname': 'mx.xss-target.example',
        'receiving-mx-helo': '<iframe src=javascript:window.__pwned=4>', 'failed-session-count': 17,
        'failure-reason-code': '<script>window.__pwned=5</script>' }],
    }],
  };
}

export interface Harness {
  svc: RunningService;
  base: string;
  browser: Browser;
  dir: string;
  /** Posts a report (object or file bytes) to the public endpoint; returns the stored id. */
  postReport(body: unknown): Promise<number>;
  /** A fresh page, signed in through the form. */
  signedInPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  ensureWebBuild();
  mkdirSync(SHOTS, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-browser-'));
  const file = path.join(dir, 'tlsrpt.json');
  writeFileSync(file, JSON.stringify({
    store: { sqlite: path.join(dir, 'db.sqlite') },
    // Many reports from one loopback peer in a second: the per-peer limit is not under test here.
    http: { listen: '127.0.0.1:0', token: TOKEN, reportRatePerMinute: 100000 },
    SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
  }));
  const svc = await startService(loadConfig(file, {}), silentLog);
  const base = `http://127.0.0.1:${svc.http.port}`;
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (e) {
    await svc.stop();
    throw new Error(`cannot start ${CHROMIUM} (apt-get install -y chromium; scripts/setup --test does it): ${(e as Error).message}`);
  }
  const postReport = async (body: unknown) => {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const res = await fetch(`${base}/tlsrpt`, { method: 'POST', headers: { 'content-type': 'application/tlsrpt+json' }, body: new Uint8Array(bytes) });
    const json = await res.json() as { reports?: { id: number }[] };
    if (res.status !== 201 && res.status !== 200) throw new Error(`POST /tlsrpt answered ${res.status}: ${JSON.stringify(json)}`);
    return json.reports![0].id;
  };
  return {
    svc, base, browser, dir, postReport,
    async signedInPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.fill('#token', TOKEN);
      await page.click('button[type=submit]');
      await page.waitForSelector('nav[aria-label="Main"]');
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
      await svc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const fixture = (name: string) => readFileSync(path.resolve('test/fixtures/reports', name));

/** Runs axe-core in the page (evaluated over the debugging protocol, so the page's CSP does not apply). */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  const source = readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
}

/** Presses Tab until focus comes back round; returns a description of each element reached. */
export async function tabOrder(page: Page, max = 300): Promise<string[]> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const d = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return '';
      return `${el.tagName.toLowerCase()}|${el.id || el.getAttribute('name') || el.textContent?.trim().slice(0, 40) || ''}|${[...document.querySelectorAll('*')].indexOf(el)}`;
    });
    // A date input takes several Tabs (one per segment); past the last control focus leaves the page.
    if (!d || d === seen.at(-1)) continue;
    if (d === seen[0]) break;
    seen.push(d);
  }
  return seen;
}

/** Every visible control a keyboard user must reach, described as `tabOrder` does. */
export async function controls(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary')]
    .filter((el) => !(el as HTMLButtonElement).disabled && el.getClientRects().length > 0 && el.offsetParent !== null && !el.closest('details:not([open]) > :not(summary)'))
    .map((el) => `${el.tagName.toLowerCase()}|${el.id || el.getAttribute('name') || el.textContent?.trim().slice(0, 40) || ''}|${[...document.querySelectorAll('*')].indexOf(el)}`));
}

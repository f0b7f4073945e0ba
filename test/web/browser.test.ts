/**
 * @module test/web/browser — the web UI in Debian's Chromium against a real service on
 * loopback: sign-in and sign-out, each page showing the numbers of the reports posted to it,
 * script payloads from a stranger's report staying inert, the CSP header, the settings form
 * (a bad expression shows its error with the position, a good one previews and saves without a
 * restart), keyboard reach, axe-core, and a 1280×800 screenshot of every page.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { axeViolations, controls, fixture, hostileReport, SHOTS, startHarness, tabOrder, TOKEN, type Harness } from './support/ui-harness.js';
import { gzipSync } from 'node:zlib';

let h: Harness;
let page: Page;
let hostileId: number;
let rfcId: number;
const daysAgo = (n: number) => new Date(Date.now() - n * 86400_000).toISOString().slice(0, 10);
/** Text of the page with thousands separators dropped, for finding figures. */
const text = async (p: Page) => (await p.innerText('main')).replace(/(\d),(?=\d{3})/g, '$1');

before(async () => {
  h = await startHarness();
  hostileId = await h.postReport(hostileReport(daysAgo(3)));
  // RFC 8460's own example (attribution in test/fixtures/reports/SOURCES.md), dated 2016: the
  // ten-year range shows it.
  rfcId = await h.postReport(fixture('parsedmarc__rfc8460.json'));
  await h.postReport(fixture('dmarc-report-viewer__google.json'));
  // good.example: 30 days from one reporter, 1,000 sessions a day, 5 failures on the last day.
  for (let d = 29; d >= 0; d--) {
    await h.postReport({
      'organization-name': 'Big Mail', 'contact-info': 'tls@bigmail.example', 'report-id': `big-${d}`,
      'date-range': { 'start-datetime': `${daysAgo(d)}T00:00:00Z`, 'end-datetime': `${daysAgo(d)}T23:59:59Z` },
      policies: [{
        policy: { 'policy-type': 'sts', 'policy-domain': 'good.example', 'policy-string': ['version: STSv1', 'mode: testing'], 'mx-host': ['mx.good.example'] },
        summary: { 'total-successful-session-count': 1000, 'total-failure-session-count': d === 0 ? 5 : 0 },
        'failure-details': d === 0 ? [{ 'result-type': 'starttls-not-supported', 'receiving-mx-hostname': 'mx2.good.example', 'receiving-ip': '198.51.100.7', 'failed-session-count': 5 }] : [],
      }],
    });
  }
  // 100 days back: only the longer ranges show it.
  await h.postReport({
    'organization-name': 'Old Mail', 'contact-info': 'tls@oldmail.example', 'report-id': 'old-1',
    'date-range': { 'start-datetime': `${daysAgo(100)}T00:00:00Z`, 'end-datetime': `${daysAgo(100)}T23:59:59Z` },
    policies: [{ policy: { 'policy-type': 'no-policy-found', 'policy-domain': 'older.example' }, summary: { 'total-successful-session-count': 77, 'total-failure-session-count': 0 } }],
  });
  page = await h.signedInPage();
});
after(async () => h?.close());

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
async function open(p: string, ready: string) {
  await page.goto(`${h.base}${p}`);
  await page.waitForSelector(ready);
}

describe('web UI in Chromium', () => {
  it('sign-in: a wrong token is refused on the form, the right one opens the UI; the page carries a strict CSP', async () => {
    const ctx = await h.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ctx.newPage();
    const res = await p.goto(`${h.base}/`);
    const csp = res!.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await p.fill('#token', 'not-the-token-0123456789');
    await p.click('button[type=submit]');
    assert.match(await p.locator('#signin-error').innerText(), /wrong admin token/);
    await p.screenshot({ path: path.join(SHOTS, 'sign-in.png') });
    await p.fill('#token', TOKEN);
    await p.click('button[type=submit]');
    await p.waitForSelector('h1:has-text("Overview")');
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'tlsrpt_session')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await p.evaluate(() => document.cookie.includes('tlsrpt_session')), false, 'the page script cannot read the session cookie');
    await ctx.close();
  });

  it('overview lists each policy domain with its figures and the sending side', async () => {
    await open('/', 'tr[data-domain="good.example"]');
    const row = page.locator('tr[data-domain="good.example"]');
    assert.equal(await row.locator('[data-k=sessions]').innerText(), '30,005');
    assert.equal(await row.locator('[data-k=failed]').innerText(), '5');
    assert.equal(await row.locator('[data-k=rate]').innerText(), '0.017%'); // 5 of 30,005: small rates keep three decimals
    assert.equal(await row.locator('[data-k=reporters]').innerText(), '1');
    assert.match(await row.innerText(), /mx2\.good\.example \(5\)/);
    assert.match(await row.innerText(), /starttls-not-supported \(5\)/);
    const xss = page.locator('tr[data-domain="xss-target.example"]');
    assert.equal(await xss.locator('[data-k=sessions]').innerText(), '4,259');
    assert.equal(await xss.locator('[data-k=rate]').innerText(), '0.4%');
    assert.equal(await page.locator('tr[data-domain="older.example"]').count(), 0, 'the report of 100 days ago is outside the last 30 days');
    assert.equal(await page.locator('[data-k=openWindows]').innerText(), '0');
    await shot('overview');
    await page.selectOption('select', '365');
    await page.waitForSelector('tr[data-domain="older.example"]');
    assert.equal(await page.locator('tr[data-domain="older.example"] [data-k=sessions]').innerText(), '77');
    assert.equal(new URL(page.url()).search, '?days=365');
    // Ten years: the RFC's own 2016 example stays out (its day is more than 3,650 days back).
    await page.selectOption('select', '3650');
    await page.waitForFunction(() => new URL(location.href).search === '?days=3650' && document.querySelector('h2')?.textContent?.includes('2016-'));
    assert.equal(await page.locator('tr[data-domain="company-y.example"]').count(), 0);
  });

  it('a stranger\'s report renders its payloads as text and runs none of them', async () => {
    // Recorded by a setter hook installed before any page script: any payload that runs trips it.
    await page.addInitScript(() => {
      const w = window as unknown as { __ran: unknown[] };
      w.__ran = [];
      Object.defineProperty(window, '__pwned', { configurable: false, get: () => undefined, set: (v) => w.__ran.push(v) });
    });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await open(`/reports/${hostileId}`, '[data-k=org]');
    const body = await text(page);
    assert.ok(body.includes('<img src=x onerror="window.__pwned=1">'));
    assert.ok(body.includes('</script><script>window.__pwned=2</script>'));
    assert.ok(body.includes('mx: <svg onload=window.__pwned=3>'));
    assert.ok(body.includes('<iframe src=javascript:window.__pwned=4>'));
    assert.ok(body.includes('<script>window.__pwned=5</script>'));
    assert.ok(body.includes('<b>mx</b>'));
    assert.match(await page.locator('[data-k=policy-successful]').innerText(), /^4,242$/);
    assert.match(await page.locator('[data-k=policy-failed]').innerText(), /^17$/);
    await page.click('summary:has-text("Show the JSON")');
    await page.waitForTimeout(300);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __ran: unknown[] }).__ran), []);
    assert.equal(await page.locator('main img, main iframe, main svg[onload], main b').count(), 0, 'no element made from report text');
    assert.deepEqual(dialogs, []);
    await shot('report');
    // The domain page shows the same strings (policy string, organisation) as text too.
    await open('/domains/xss-target.example', '#pol-h');
    assert.ok((await text(page)).includes('<img src=x onerror="window.__pwned=1">'));
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __ran: unknown[] }).__ran), []);
  });

  it('the RFC 8460 example report: every failure-detail field, findings and the raw JSON', async () => {
    await open(`/reports/${rfcId}`, '[data-k=org]');
    const body = await text(page);
    assert.equal(await page.locator('[data-k=org]').innerText(), 'Company-X');
    assert.match(body, /Policy 1: sts for company-y\.example/);
    for (const v of ['certificate-expired', '2001:db8:abcd:0012::1', 'mx1.mail.company-y.example', 'starttls-not-supported', '2001:db8:abcd:0013::1',
      'mx2.mail.company-y.example', '203.0.113.56', 'https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported',
      'validation-failure', '198.51.100.62', '203.0.113.58', 'mx-backup.mail.company-y.example', 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED', '*.mail.company-y.example']) {
      assert.ok(body.includes(v), v);
    }
    assert.match(body, /Successful sessions\s+5326/);
    assert.match(body, /Failed sessions\s+303/);
    const download = await page.locator('a[download]').getAttribute('download');
    assert.equal(download, `tlsrpt-report-${rfcId}.json`);
  });

  it('domain page: totals, chart, and tables by reporter, MX/IP and policy', async () => {
    await open('/domains/good.example', '#pol-h');
    assert.equal(await page.locator('[data-k=sessions]').innerText(), '30,005');
    assert.equal(await page.locator('[data-k=reports]').innerText(), '30');
    assert.equal(await page.locator('.chart canvas').count(), 1, 'uPlot drew the daily chart');
    const body = await text(page);
    assert.match(body, /bigmail\.example\s+Big Mail\s+30000\s+5\s+30/);
    assert.match(body, /mx2\.good\.example\s+198\.51\.100\.7\s+5\s+starttls-not-supported/);
    assert.match(body, /sts\s+testing\s+version: STSv1/);
    await shot('domain');
  });

  it('reports page filters by failures and channel', async () => {
    await open('/reports', '[data-k=total]');
    assert.equal(await page.locator('[data-k=total]').innerText(), '34 reports');
    await page.selectOption('select[name=hasFailures]', 'true');
    await page.click('button:has-text("Apply")');
    await page.waitForURL(/hasFailures=true/);
    await page.waitForFunction(() => document.querySelector('[data-k=total]')?.textContent?.startsWith('3 '));
    assert.equal(await page.locator('tbody tr').count(), 3);
    await shot('reports');
    await open('/reports?channel=smtp', '[data-k=total]');
    assert.equal(await page.locator('[data-k=total]').innerText(), '0 reports');
  });

  it('settings: defaults shown, a bad expression shows its error with the position, a good one previews and saves without a restart', async () => {
    await open('/settings/tls', '#f-fromName-else');
    assert.match(await page.locator('fieldset:has(#f-fromName-else) [data-k=default]').innerText(), /'Report Subsystem'/);
    await page.waitForSelector('[data-k=preview-fromName]');
    assert.equal(await page.locator('[data-k=preview-fromName]').innerText(), '"Report Subsystem"');
    assert.equal(await page.locator('[data-k=preview-fromAddress]').innerText(), '"noreply-tls@example.com"');
    await page.fill('#f-fromName-else', "'TLS ' + + rcpt_domain");
    const err = page.locator('#f-fromName-else-err');
    await err.waitFor();
    assert.match(await err.innerText(), /at position (\d+)/);
    const position = Number(/at position (\d+)/.exec(await err.innerText())![1]);
    assert.ok(position >= 7 && position <= 10, `position ${position}`);
    assert.equal(await page.locator('button:has-text("Save")').isDisabled(), true);
    await shot('settings-error');
    await page.fill('#f-fromName-else', "'TLS reports for ' + rcpt_domain");
    await page.fill('#rcpt', 'customer.example');
    await page.waitForFunction(() => document.querySelector('[data-k=preview-fromName]')?.textContent === '"TLS reports for customer.example"');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('text=Saved.');
    const stored = await (await fetch(`${h.base}/api/v1/settings/TlsReportSettings`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { value: { fromName: unknown } };
    assert.deepEqual(stored.value.fromName, { else: "'TLS reports for ' + rcpt_domain" });
    await shot('settings');
  });

  it('outbound and system pages show the queue and the service', async () => {
    const store = h.svc.store;
    const now = Math.floor(Date.now() / 1000);
    const w = await store.db.insertInto('outbound_window').values({ report_domain: 'peer.example', window_start: now - 3600, window_end: now + 3600, frequency: 'daily', state: 'open', created_at: now })
      .returning('id').executeTakeFirstOrThrow();
    await store.db.insertInto('outbound_policy').values({ window_id: Number(w.id), fingerprint: 'fp', tlsrpt_record: null, policy_json: '{}', successful: 321, failed: 4 }).execute();
    const built = await store.db.insertInto('outbound_window').values({ report_domain: 'built.example', window_start: now - 90000, window_end: now - 3600, frequency: 'daily', state: 'closed', created_at: now })
      .returning('id').executeTakeFirstOrThrow();
    const body = JSON.stringify({ 'organization-name': 'example.com', 'report-id': 'rep-ui-1' });
    const rep = await store.db.insertInto('outbound_report').values({
      window_id: Number(built.id), report_domain: 'built.example', window_start: now - 90000, window_end: now - 3600, report_id: 'rep-ui-1',
      json_bytes: body.length, gz: gzipSync(body), file_name: 'f.json.gz', state: 'pending', reason: null, record_source: 'dns', tlsrpt_record: null,
      due_at: now + 3000, created_at: now, built_at: now, claimed_by: null,
    }).returning('id').executeTakeFirstOrThrow();
    await store.db.insertInto('outbound_target').values({ outbound_report_id: Number(rep.id), uri: 'mailto:tls@built.example', scheme: 'mailto', state: 'retrying', next_attempt_at: now + 900, last_error: 'relay said 451' }).execute();
    await open('/outbound', '#win-h');
    assert.match(await text(page), /peer\.example\s+[^\n]+\s+daily\s+321\s+4\s+1/);
    // A built report's heading and target row come from the API's field names (the page once read
    // 'policy-domain' and showed "undefined · Invalid Date").
    const heading = await page.locator(`#r-${Number(rep.id)}`).innerText();
    assert.match(heading, /^built\.example · \S.* – \S.* · pending$/);
    assert.doesNotMatch(heading, /undefined|Invalid Date/);
    const report = await page.locator('article.outbound-report').innerText();
    assert.match(report, /report-id rep-ui-1/);
    assert.match(report, /mailto:tls@built\.example\s+retrying\s+0\s+relay said 451/);
    await shot('outbound');
    await open('/system', '[data-k=database]');
    assert.equal(await page.locator('[data-k=database]').innerText(), 'sqlite');
    assert.equal(await page.locator('[data-k=inboundReports]').innerText(), '34');
    assert.equal(await page.locator('[data-k=openWindows]').innerText(), '1');
    await shot('system');
  });

  it('keyboard reaches every control, and axe-core finds no serious violation, on every page', async () => {
    const pages: [string, string][] = [['/', 'tr[data-domain]'], ['/domains/good.example', '#pol-h'], ['/reports', '[data-k=total]'],
      [`/reports/${rfcId}`, '[data-k=org]'], ['/outbound', '#win-h'], ['/settings/tls', '[data-k=preview-fromName]'], ['/system', '[data-k=database]']];
    for (const [p, ready] of pages) {
      await open(p, ready);
      const reached = await tabOrder(page);
      const missing = (await controls(page)).filter((c) => !reached.includes(c));
      assert.deepEqual(missing, [], `${p}: not reached by Tab`);
      const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(serious, [], `${p}: ${JSON.stringify(serious)}`);
    }
  });

  it('sign-out ends the session: the UI shows the sign-in form and the old cookie opens nothing', async () => {
    await open('/', 'tr[data-domain]');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'tlsrpt_session')!.value;
    await page.click('button:has-text("Sign out")');
    await page.waitForSelector('#token');
    const res = await fetch(`${h.base}/api/v1/ui/overview`, { headers: { cookie: `tlsrpt_session=${cookie}` } });
    assert.equal(res.status, 401);
    await page.goto(`${h.base}/system`);
    await page.waitForSelector('#token');
  });
});

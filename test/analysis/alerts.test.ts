/**
 * @module test/analysis/alerts — alert rules on both databases (failure rate vs threshold and
 * baseline, new failing MX/result type, urgent certificate failures, cooldown, silent reporter,
 * ready to enforce, per-domain overrides), and end to end: a real SMTP relay sink receives the
 * urgent mail and the digest, a real HTTPS receiver gets the webhook and checks its HMAC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { forEachStore } from '../support/stores.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { startHttpsServer } from '../support/https-server.js';
import { AlertsConfig } from '../../src/settings/alerts.js';
import { createAlertEngine, type StoredAlert } from '../../src/analysis/alerts/engine.js';
import { notifierFromConfig } from '../../src/analysis/alerts/index.js';
import { alertsRoutes } from '../../src/http/routes/alerts.js';
import { loadConfig } from '../../src/settings/config.js';
import { DAY, storeReport } from './alert-reports.js';

const TODAY = Math.floor(Date.now() / 1000 / DAY);
const config = (extra: object = {}) => AlertsConfig.parse({ ...extra });
const rules = (alerts: StoredAlert[]) => alerts.map((a) => `${a.rule} ${a.key}`).sort();

forEachStore('alert rules', (open) => {
  test('failure rate above the baseline, a new failing MX, an urgent certificate failure; cooldown holds the repeat', async () => {
    const store = await open();
    const engine = createAlertEngine({ store, config: config(), notifier: {} });
    for (let d = TODAY - 15; d < TODAY - 1; d++) {
      await storeReport(store, { domain: 'example.com', day: d, ok: 1000, failures: [{ mx: 'mx1.example.com', type: 'starttls-not-supported', count: 2 }] });
    }
    assert.deepEqual(rules(await engine.evaluateStored()), ['new-failure new-failure:example.com:mx1.example.com:starttls-not-supported'], 'history: one new failure, rates at 0.2% stay quiet');
    await storeReport(store, { domain: 'example.com', day: TODAY - 1, ok: 950, failures: [{ mx: 'mx1.example.com', type: 'starttls-not-supported', count: 2 }, { mx: 'mx2.example.com', type: 'certificate-expired', count: 48 }] });
    const raised = await engine.evaluateStored();
    assert.deepEqual(rules(raised), [
      'certificate certificate:example.com:mx2.example.com:certificate-expired',
      `failure-rate failure-rate:example.com:${TODAY - 1}`,
      'new-failure new-failure:example.com:mx2.example.com:certificate-expired',
    ]);
    const rate = raised.find((a) => a.rule === 'failure-rate')!;
    // 50 of 1000 failed: 5.0 %, not above the 5 % threshold, but above 3 × the baseline 28 / 14028.
    assert.equal(rate.detail.rate, 0.05);
    assert.equal(rate.detail.baseline, 28 / 14028);
    assert.match(String(rate.detail.why), /3× above the 14-day baseline 0\.2%/);
    assert.equal(raised.find((a) => a.rule === 'certificate')!.severity, 'urgent');
    await storeReport(store, { domain: 'example.com', day: TODAY - 1, reporter: 'microsoft.com', ok: 10, failures: [{ mx: 'mx2.example.com', type: 'certificate-expired', count: 5 }] });
    assert.deepEqual(await engine.evaluateStored(), [], 'same keys within the cooldown');
  });

  test('threshold and minSessions; a domain can be switched off or given its own threshold', async () => {
    const store = await open();
    const engine = createAlertEngine({ store, config: config({ rules: { newFailure: false }, domains: { 'quiet.example': { enabled: false }, 'strict.example': { failureRate: 0.01 } } }), notifier: {} });
    await storeReport(store, { domain: 'loud.example', day: TODAY - 1, ok: 90, failed: 10 });
    await storeReport(store, { domain: 'quiet.example', day: TODAY - 1, ok: 90, failed: 10 });
    await storeReport(store, { domain: 'strict.example', day: TODAY - 1, ok: 98, failed: 2 });
    await storeReport(store, { domain: 'small.example', day: TODAY - 1, ok: 5, failed: 5 });
    await storeReport(store, { domain: 'fine.example', day: TODAY - 1, ok: 98, failed: 2 });
    assert.deepEqual(rules(await engine.evaluateStored()), [`failure-rate failure-rate:loud.example:${TODAY - 1}`, `failure-rate failure-rate:strict.example:${TODAY - 1}`]);
  });

  test('daily: a daily reporter gone silent, MTA-STS testing without failures is ready to enforce', async () => {
    const store = await open();
    const engine = createAlertEngine({ store, config: config(), notifier: {} });
    const testing = ['version: STSv1', 'mode: testing', 'mx: *.ready.example', 'max_age: 86400'];
    for (let d = TODAY - 20; d <= TODAY - 6; d++) await storeReport(store, { domain: 'example.com', day: d, ok: 10 });
    for (const d of [TODAY - 20, TODAY - 12]) await storeReport(store, { domain: 'example.com', day: d, reporter: 'rare.example', ok: 1 });
    for (let d = TODAY - 31; d <= TODAY - 1; d++) {
      await storeReport(store, { domain: 'ready.example', day: d, ok: 100, policyStrings: testing });
      await storeReport(store, { domain: 'notyet.example', day: d, ok: 100, failed: d === TODAY - 3 ? 1 : 0, policyStrings: testing });
    }
    await engine.evaluateStored();
    const { raised } = await engine.runDaily();
    assert.deepEqual(rules(raised), [`ready-to-enforce ready-to-enforce:ready.example`, `silent-reporter silent-reporter:example.com:google.com:${TODAY - 6}`]);
    const silent = raised.find((a) => a.rule === 'silent-reporter')!;
    assert.equal(silent.detail.silentDays, 5);
    assert.equal(silent.detail.activeDaysBefore, 14);
    assert.equal(await engine.dailyDue(), false, 'ran today');
  });
});

test('end to end: urgent mail through the relay, HMAC-signed webhook, daily digest, GET /api/v1/alerts, config section', async () => {
  const { openStore } = await import('../../src/store/index.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-alerts-'));
  const sink = await startSmtpSink();
  const receiver = await startHttpsServer();
  const store = await openStore({ sqlite: path.join(dir, 'db.sqlite') });
  try {
    writeFileSync(path.join(dir, 'ca.pem'), receiver.ca);
    const secret = 'webhook-secret-0123456789';
    const cfgFile = path.join(dir, 'tlsrpt.json');
    writeFileSync(cfgFile, JSON.stringify({
      relay: { host: '127.0.0.1', port: sink.port },
      alerts: { email: { to: ['ops@example.org'] }, webhook: { url: receiver.url('/hook'), secret, caFile: path.join(dir, 'ca.pem') }, cooldownHours: 12 },
    }));
    const cfg = loadConfig(cfgFile);
    assert.equal(cfg.alerts!.rules.failureRate ?? 0.05, 0.05);
    assert.throws(() => loadConfig(cfgFile, { TLSRPT_STORE: '' }) && AlertsConfig.parse({ webhook: { url: 'http://x.example/', secret: 'short' } }), /https:\/\/|16 characters/);
    const notifier = await notifierFromConfig(cfg.alerts!, { relay: cfg.relay as never, systemDomain: 'example.org' });
    const engine = createAlertEngine({ store, config: cfg.alerts!, notifier });
    await storeReport(store, { domain: 'example.org', day: TODAY - 1, ok: 500, failures: [{ mx: 'mx1.example.org', type: 'certificate-not-trusted', count: 3 }] });
    const raised = await engine.evaluateStored();
    assert.deepEqual(raised.map((a) => a.rule).sort(), ['certificate', 'new-failure']);

    assert.equal(receiver.received.length, 1);
    const post = receiver.received[0];
    const sig = String(post.headers['x-tlsrpt-signature']);
    const m = /^t=(\d+),sha256=([0-9a-f]{64})$/.exec(sig);
    assert.ok(m, sig);
    assert.equal(m[2], createHmac('sha256', secret).update(`${m[1]}.${post.body.toString()}`).digest('hex'));
    assert.notEqual(m[2], createHmac('sha256', 'another-secret-0123456789').update(`${m[1]}.${post.body.toString()}`).digest('hex'));
    assert.deepEqual(JSON.parse(post.body.toString()).alerts.map((a: StoredAlert) => a.rule).sort(), ['certificate', 'new-failure']);

    assert.equal(sink.received.length, 1, 'only the urgent alert is mailed at once');
    const urgent = sink.received[0];
    assert.deepEqual(urgent.to, ['ops@example.org']);
    assert.equal(urgent.from, 'tlsrpt-alerts@example.org');
    const headers = urgent.raw.toString().replace(/\r\n[ \t]/g, ' ');
    assert.match(headers, /^Subject: \[tlsrpt\] URGENT example\.org: certificate-not-trusted at mx1\.example\.org \(3 session\(s\) on /m);
    assert.match(headers, /^TLS-Required: No/mi);

    const { digested } = await engine.runDaily();
    assert.equal(digested, 2);
    assert.equal(sink.received.length, 2);
    assert.match(sink.received[1].raw.toString(), /^Subject: \[tlsrpt\] daily digest: 2 alert\(s\)/m);

    const app = new Hono();
    app.route('/', alertsRoutes({ store }));
    const res = await app.request('/api/v1/alerts?rule=certificate');
    const body = await res.json();
    assert.equal(body.alerts.length, 1);
    assert.deepEqual(body.alerts[0].notified, ['webhook', 'email']);
    assert.ok(body.alerts[0].digestedAt);
    assert.equal((await app.request('/api/v1/alerts?since=yesterday')).status, 400);
  } finally {
    await store.close();
    await sink.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

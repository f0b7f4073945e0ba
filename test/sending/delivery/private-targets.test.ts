/**
 * @module test/sending/delivery/private-targets — the service's own wiring of
 * `delivery.allowPrivateTargets` (every other delivery test sets it): a real `tlsrpt serve`
 * takes events over HTTP whose TLSRPT record names an https rua on loopback, and the send that
 * follows (`tlsrpt outbound send --now`, the same setup as serve's scheduler) refuses it with
 * the config left at its default — nothing reaches the receiver, and the reason names the key.
 * On SQLite and PostgreSQL.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { forEachStore } from '../../support/stores.js';
import { startHttpsServer } from '../../support/https-server.js';
import { callServe, freePort, startServe, waitUp } from '../../support/serve-child.js';

const run = promisify(execFile);
const TOKEN = 'private-token-0123456789';

forEachStore('delivery.allowPrivateTargets left at its default', (open) => {
  it('serve collects, the send refuses the loopback https rua, the receiver gets nothing', async () => {
    const store = await open();
    const storeConfig = store.config;
    await store.close();
    const https = await startHttpsServer();
    const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-private-'));
    try {
      const port = await freePort();
      const cfg = path.join(dir, 'cfg.json');
      writeFileSync(cfg, JSON.stringify({
        store: storeConfig, http: { listen: `127.0.0.1:${port}`, token: TOKEN },
        delivery: { spreadSeconds: 0, extraCaFile: path.join(dir, 'ca.pem') },
        SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
      }));
      writeFileSync(path.join(dir, 'ca.pem'), https.ca);
      const child = startServe(cfg, path.join(dir, 'serve.log'));
      try {
        await waitUp(port, child, TOKEN);
        const rua = https.url('/tlsrpt', 'localhost');
        const r = await callServe(port, TOKEN, 'POST', '/api/v1/events', { events: [{
          'recipient-domain': 'example.net', 'tlsrpt-record': `v=TLSRPTv1; rua=${rua}`,
          policies: [{ 'policy-type': 'no-policy-found', result: 'success' }],
        }] });
        assert.equal(r.status, 200, JSON.stringify(r.json));
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      }
      const { stdout } = await run(process.execPath, [path.resolve('bin/tlsrpt.js'), 'outbound', 'send', '--now', '--json', '--config', cfg], { env: { ...process.env, TLSRPT_LOG_LEVEL: 'error' } });
      const out = JSON.parse(stdout) as { targets: { uri: string; state: string; detail: string }[] };
      assert.equal(out.targets.length, 1, stdout);
      assert.notEqual(out.targets[0].state, 'sent');
      assert.match(out.targets[0].detail, /allowPrivateTargets/);
      assert.equal(https.received.length, 0, 'nothing reached the loopback receiver');
    } finally {
      await https.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

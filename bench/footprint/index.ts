/**
 * @module bench/footprint — the collector's footprint (issue 12), measured on the compiled
 * service as an operator runs it: `tlsrpt --help` start-up against a bare `node -e 0`, and the
 * RSS of an idle `tlsrpt serve` with the datagram collector, 5 s after it answers /healthz.
 * Targets: --help <= 4x node and <= 0.15 s; idle <= 80 MiB.
 * Not measured here yet: 1 M datagrams over 10,000 keys (<= 150 MiB, >= 100k/s) and a
 * 100,000-domain report build (<= 256 MiB).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BIN = path.resolve('bin/tlsrpt.js');
spawnSync(process.execPath, ['scripts/ensure-built.mjs'], { stdio: 'inherit' });

function bestOf(n: number, args: string[]): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

const node = bestOf(7, ['-e', '0']);
const help = bestOf(7, [BIN, '--help']);

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-footprint-'));
try {
  const port = await freePort();
  const cfg = path.join(dir, 'tlsrpt.json');
  writeFileSync(cfg, JSON.stringify({
    store: { sqlite: path.join(dir, 'db.sqlite') }, http: { listen: `127.0.0.1:${port}`, token: 'footprint-token-0123456789' },
    collector: { socket: path.join(dir, 'c.sock') }, SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
  }));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { stdio: 'ignore' });
  try {
    const end = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > end) throw new Error('serve did not answer /healthz within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 5000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    if (!Number.isFinite(rssKib) || rssKib <= 0) throw new Error('no VmRSS for the serve process');
    console.log(`tlsrpt --help ${(help * 1000).toFixed(0)} ms = ${(help / node).toFixed(1)}x node -e 0 (${(node * 1000).toFixed(0)} ms); targets <= 150 ms, <= 4x`);
    console.log(`idle serve with the collector: ${(rssKib / 1024).toFixed(1)} MiB RSS 5 s after /healthz; target <= 80 MiB`);
    console.log(`RESULT help_startup ${(help * 1000).toFixed(0)} ms`);
    console.log(`RESULT help_startup_ratio ${(help / node).toFixed(2)} x`);
    console.log(`RESULT idle_serve_rss ${(rssKib / 1024).toFixed(1)} MiB`);
  } finally {
    child.kill('SIGTERM');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

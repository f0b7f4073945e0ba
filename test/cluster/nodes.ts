/**
 * @module test/cluster/nodes — real `tlsrpt serve` nodes for the cluster tests: spawn one from a
 * config file, wait for /healthz, post event batches, run a `tlsrpt` CLI command, and restart the
 * test's own PostgreSQL cluster (a restart of the suite's shared one would hit other tests).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { PG_BIN, type PostgresCluster } from '../support/postgres.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/tlsrpt.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One HTTP call with the admin token; rejects on connection errors, resolves with any status. */
export function call(port: number, token: string, method: string, p: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; json: any }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path: p, method, timeout: timeoutMs,
      headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON (an error page): kept as text
        }
        resolve({ status: res.statusCode!, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

export interface ServeNode {
  name: string;
  port: number;
  child: ChildProcess;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (flushes), and wait for the exit. */
  stop(): Promise<void>;
}

const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

/** Spawns `tlsrpt serve --config FILE` (stderr appended to `logFile`) and waits until /healthz answers. */
export async function startNode(name: string, configFile: string, port: number, logFile: string): Promise<ServeNode> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (c: Buffer) => {
    try {
      appendFileSync(logFile, c);
    } catch {
      // the test's folder is gone: the test is over
    }
  });
  // Generous: on a loaded 2-core machine tsx alone took over a minute to start three nodes.
  const end = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node ${name} exited with ${child.exitCode} (see ${logFile})`);
    try {
      if ((await call(port, '', 'GET', '/healthz', undefined, 2000)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`node ${name} did not come up within 180 s (see ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name, port, child,
    kill: async () => {
      child.kill('SIGKILL');
      await exited(child);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** Runs `tlsrpt ARGS…`; resolves with stdout (rejects with stderr on a non-zero exit). */
export async function cli(args: string[]): Promise<string> {
  const r = await run(process.execPath, [BIN, ...args], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return r.stdout;
}

/** `pg_ctl restart -m fast` of a cluster started by startPostgres() (as its owner when we are root). */
export async function restartPostgres(cluster: PostgresCluster): Promise<void> {
  const exe = path.join(PG_BIN, 'pg_ctl');
  // postmaster.opts keeps the port and settings of the first start; -l keeps the server's output off our pipes.
  const args = ['-D', path.join(cluster.dir, 'data'), '-l', path.join(cluster.dir, 'log'), '-m', 'fast', '-w', '-t', '60', 'restart'];
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', exe, ...args], { timeout: 90_000 });
  else await run(exe, args, { timeout: 90_000 });
}

/**
 * @module test/support/serve-child — a real `tlsrpt serve` child process for tests: a free port,
 * start it with a config file (its stderr kept in a log file), wait for /healthz, call its API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';

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

export function callServe(port: number, token: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: p, method, headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) });
        } catch (e) {
          reject(e);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

export function startServe(configFile: string, logFile: string): ChildProcess {
  const child = spawn(process.execPath, [path.resolve('bin/tlsrpt.js'), 'serve', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c) => (log += c));
  child.on('exit', () => writeFileSync(logFile, log));
  return child;
}

export async function waitUp(port: number, child: ChildProcess, token: string): Promise<void> {
  const end = Date.now() + 60_000; // a loaded CI machine starts serve slowly
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
    try {
      const r = await callServe(port, token, 'GET', '/healthz');
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('serve did not come up');
}


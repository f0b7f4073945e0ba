/**
 * @module test/support/https-server — a real HTTPS report receiver on 127.0.0.1 with a test CA
 * made by openssl for this run: records each request and answers the statuses it is given in turn.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCa { caPem: string; certPem: string; keyPem: string }

let cached: TestCa | undefined;

/** A CA and a server certificate for `localhost`, `receiver.test`, 127.0.0.1 and ::1 (made once per process). */
export function testCa(): TestCa {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-ca-'));
  const f = (n: string) => path.join(dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  try {
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=tlsrpt-hub test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', f('srv.key'), '-out', f('srv.csr')]);
    writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,DNS:receiver.test,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    run(['x509', '-req', '-in', f('srv.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('srv.crt')]);
    cached = { caPem: readFileSync(f('ca.crt'), 'utf8'), certPem: readFileSync(f('srv.crt'), 'utf8'), keyPem: readFileSync(f('srv.key'), 'utf8') };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ReceivedPost { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: Buffer; status: number; servername?: string }

export interface TestHttpsServer {
  port: number;
  ca: string;
  received: ReceivedPost[];
  /** `https://<host>:<port><path>` */
  url(pathname?: string, host?: string): string;
  setStatuses(statuses: number[]): void;
  close(): Promise<void>;
}

/**
 * Starts the receiver. `statuses` are answered in turn (the last one repeats); a status may be
 * a function for special answers (redirects, slow replies).
 */
export async function startHttpsServer(opts: { statuses?: number[]; delayMs?: number; headers?: Record<string, string> } = {}): Promise<TestHttpsServer> {
  const ca = testCa();
  let statuses = opts.statuses ?? [200];
  const received: ReceivedPost[] = [];
  const server: Server = createServer({ cert: ca.certPem, key: ca.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[Math.min(received.length, statuses.length - 1)];
      received.push({
        method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), status,
        servername: (req.socket as unknown as { servername?: string }).servername,
      });
      const answer = () => {
        res.writeHead(status, { 'content-length': '0', ...(opts.headers ?? {}) });
        res.end();
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    ca: ca.caPem,
    received,
    url: (pathname = '/tlsrpt', host = 'localhost') => `https://${host}:${port}${pathname}`,
    setStatuses: (s) => { statuses = s; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

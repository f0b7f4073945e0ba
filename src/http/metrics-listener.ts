/**
 * @module http/metrics-listener — `GET /metrics` on its own address (`metrics.listen`), without
 * the admin token: for a Prometheus that scrapes over a private network or loopback, where
 * handing it the admin token (which also changes settings) would give it more than it needs.
 * Bind it where only the scraper can reach it: the counters reveal traffic volumes and domains.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from '../common/log.js';
import { registry } from '../common/metrics.js';

export interface MetricsListener {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The bound port (after start; useful with port 0). */
  port(): number;
}

/** @example components.push(createMetricsListener({ host: '127.0.0.1', port: 9464 }, log)); */
export function createMetricsListener(address: { host: string; port: number }, log: Logger): MetricsListener {
  let server: Server | undefined;
  return {
    name: 'metrics-listener',
    start: () => new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD' }).end();
          return;
        }
        if ((req.url ?? '').split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics is served here\n');
          return;
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
          (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e.message}\n`),
        );
      });
      s.requestTimeout = 10_000;
      s.headersTimeout = 5_000;
      s.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`metrics.listen ${address.host}:${address.port}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`)));
      s.listen(address.port, address.host, () => {
        server = s;
        log.info({ listen: `${address.host}:${(s.address() as { port: number }).port}` }, 'metrics listening (GET /metrics, no token)');
        resolve();
      });
    }),
    stop: () => new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
      server = undefined;
    }),
    port: () => (server?.address() as { port: number } | null)?.port ?? 0,
  };
}

/** @module http/server — binds the Hono app to a TCP port, plain HTTP or HTTPS (cert/key files). */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { serve, type ServerType } from '@hono/node-server';
import type { HttpApp } from './app.js';

export interface ListeningServer {
  server: ServerType;
  port: number;
  close(): Promise<void>;
}

export async function listen(app: HttpApp, host: string, port: number, tls?: { cert: string; key: string }): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      hostname: host,
      port,
      ...(tls ? { createServer: createHttpsServer, serverOptions: { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } } : {}),
    }, (info) => {
      resolve({
        server,
        port: info.port,
        close: () => new Promise<void>((res) => {
          (server as any).closeAllConnections?.();
          server.close(() => res());
        }),
      });
    });
    // Name the address: "EADDRINUSE" alone does not tell an operator which setting to change.
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `http.listen ${host.includes(':') ? `[${host}]` : host}:${port}`;
      const why = e.code === 'EADDRINUSE' ? 'the address is already in use (another tlsrpt serve, or another server?)'
        : e.code === 'EACCES' ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
          : e.code === 'EADDRNOTAVAIL' ? 'this machine has no such address' : e.message;
      reject(Object.assign(new Error(`cannot listen on ${where}: ${why}`), { code: e.code }));
    });
  });
}

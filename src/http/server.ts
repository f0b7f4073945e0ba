/**
 * @module http/server — binds the Hono app to a TCP port, plain HTTP or HTTPS (cert/key files),
 * with the limits a public endpoint needs (issue 10): a whole request within ≈30 s, its headers
 * within ≈10 s (a slow client cannot hold a socket for Node's default 5 minutes), and at most
 * so many connections in total and per client address (an IPv6 client is its /64), as the SMTP
 * listener has.
 */
import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { serve, type ServerType } from '@hono/node-server';
import type { HttpApp } from './app.js';
import { clientKey } from '../common/rate-limit.js';
import { HTTP_TRUST_DEFAULTS } from '../settings/sections/http.js';

export interface ListeningServer {
  server: ServerType;
  port: number;
  close(): Promise<void>;
}

/** `http.requestTimeoutMs`, `http.headersTimeoutMs`, `http.maxConnections`, `http.maxConnectionsPerClient`. */
export interface ServerLimits {
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  /** Sees each request first and may answer it (report-endpoint's refusals). */
  gate?: RequestGate;
}

/**
 * Answers a request before the HTTP framework sees it, or returns false to pass it on. Plain
 * Node objects: no Fetch Request, stream or signal built.
 */
export type RequestGate = (req: IncomingMessage, res: ServerResponse) => boolean;

export async function listen(app: HttpApp, host: string, port: number, tls?: { cert: string; key: string }, limits: ServerLimits = {}): Promise<ListeningServer> {
  const l = { ...HTTP_TRUST_DEFAULTS, ...definedOnly(limits) };
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      hostname: host,
      port,
      // Our own server factory: the gate sees each request before the adapter builds a Fetch Request.
      createServer: ((options: HttpsServerOptions, listener: RequestListener) => {
        const gate = limits.gate;
        const gated: RequestListener = gate ? (req, res) => {
          let answered = false;
          try {
            answered = gate(req, res);
          } catch {
            // A fault in the gate must not take the server down: the app's own checks still run.
          }
          if (!answered) listener(req, res);
        } : listener;
        return tls ? createHttpsServer(options, gated) : createHttpServer(options, gated);
      }) as typeof createHttpServer,
      // Node checks the timeouts every connectionsCheckingInterval (default 30 s): check each second.
      serverOptions: {
        requestTimeout: l.requestTimeoutMs,
        headersTimeout: Math.min(l.headersTimeoutMs, l.requestTimeoutMs),
        connectionsCheckingInterval: Math.min(1000, l.headersTimeoutMs),
        ...(tls ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } : {}),
      },
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
    // Node closes connections beyond maxConnections as they arrive.
    (server as unknown as Server).maxConnections = l.maxConnections;
    limitPerClient(server as unknown as Server, l.maxConnectionsPerClient);
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

/** Closes a client's connection beyond `max` open ones at once. */
function limitPerClient(server: Server, max: number): void {
  const open = new Map<string, number>();
  // For HTTPS the TCP 'connection' comes first; counting there refuses before the TLS handshake.
  server.on('connection', (socket: Socket) => {
    const key = clientKey(socket.remoteAddress ?? 'unknown');
    const n = (open.get(key) ?? 0) + 1;
    if (n > max) {
      socket.destroy();
      return;
    }
    open.set(key, n);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Issue 10 item 9: the HTTP server's time and connection limits — a client that sends its
 * headers too slowly is cut off (Node's default waits 60 s for headers, 300 s per request), and
 * connections beyond the total and per-client caps are closed at once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createApp } from '../../src/http/app.js';
import { listen } from '../../src/http/server.js';
import { ServiceConfig } from '../../src/settings/config.js';

/** Opens a TCP connection; resolves with what the server sent until it closed, or 'open' after `ms`. */
function hold(port: number, send: string, ms: number): Promise<{ socket: net.Socket; result: Promise<string> }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(send);
      const result = new Promise<string>((done) => {
        let got = '';
        const timer = setTimeout(() => done(`open ${got}`), ms);
        socket.on('data', (d) => { got += d; });
        socket.on('close', () => { clearTimeout(timer); done(`closed ${got}`); });
        socket.on('error', () => {});
      });
      resolve({ socket, result });
    });
  });
}

describe('HTTP server limits', () => {
  it('defaults: request 30 s, headers 10 s, connection caps', () => {
    const http = ServiceConfig.parse({}).http;
    assert.equal(http.requestTimeoutMs, 30_000);
    assert.equal(http.headersTimeoutMs, 10_000);
    assert.ok(http.maxConnections > 0 && http.maxConnectionsPerClient > 0);
  });

  it('cuts off a client whose headers are too slow (408)', async () => {
    const s = await listen(createApp(), '127.0.0.1', 0, undefined, { headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    try {
      const { socket, result } = await hold(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 4000);
      const r = await result;
      socket.destroy();
      assert.match(r, /^closed /);
      assert.match(r, /408/);
    } finally {
      await s.close();
    }
  });

  it('closes connections over the per-client cap; a freed slot can be used again', async () => {
    const s = await listen(createApp(), '127.0.0.1', 0, undefined, { maxConnectionsPerClient: 2 });
    try {
      const a = await hold(s.port, '', 10_000);
      const b = await hold(s.port, '', 10_000);
      const c = await hold(s.port, '', 2000);
      assert.match(await c.result, /^closed/);
      a.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const d = await hold(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 2000);
      assert.match(await d.result, /200 OK/);
      b.socket.destroy();
    } finally {
      await s.close();
    }
  });

  it('closes connections over the total cap', async () => {
    const s = await listen(createApp(), '127.0.0.1', 0, undefined, { maxConnections: 1 });
    try {
      const a = await hold(s.port, '', 10_000);
      const b = await hold(s.port, '', 2000);
      assert.match(await b.result, /^closed/);
      a.socket.destroy();
    } finally {
      await s.close();
    }
  });
});

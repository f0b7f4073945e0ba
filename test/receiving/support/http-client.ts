/**
 * @module test/receiving/support/http-client — raw HTTP(S) POSTs for endpoint tests: a CA given
 * per request (global fetch on Node 20 cannot), chunked bodies without Content-Length, and
 * Content-Length headers that lie.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface PostResult { status: number; headers: http.IncomingHttpHeaders; body: any }

export function post(url: string, body: Buffer | Buffer[], opts: { ca?: string; headers?: Record<string, string>; chunked?: boolean; method?: string } = {}): Promise<PostResult> {
  const u = new URL(url);
  const chunks = Array.isArray(body) ? body : [body];
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, {
      method: opts.method ?? 'POST',
      ...(opts.ca ? { ca: opts.ca } : {}),
      headers: { 'content-type': 'application/tlsrpt+gzip', ...(opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(total) }), ...opts.headers },
    } as https.RequestOptions, (res) => {
      const got: Buffer[] = [];
      res.on('data', (d: Buffer) => got.push(d));
      res.on('end', () => {
        const text = Buffer.concat(got).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    (async () => {
      for (const c of chunks) {
        if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

/** Sends a request head announcing `declaredLength` bytes, then only a few, and reads the status line. */
export function postWithDeclaredLength(port: number, path: string, declaredLength: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: ${declaredLength}\r\n\r\n{"a":`);
    });
    let data = '';
    s.on('data', (d) => {
      data += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', reject);
    s.setTimeout(10_000, () => { s.destroy(); reject(new Error('no answer within 10 s')); });
  });
}

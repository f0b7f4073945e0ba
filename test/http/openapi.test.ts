/**
 * @module test/http/openapi — `GET /api/v1/openapi.json` of a running service: an OpenAPI 3.1
 * document naming every route the Hono app has, and nothing it does not have (both directions),
 * with request schemas generated from the zod schemas that validate the requests.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLog } from '../../src/common/log.js';
import { ServiceConfig } from '../../src/settings/config.js';
import { startService } from '../../src/service.js';
import { appRoutes, describedRoutes } from '../../src/http/openapi.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-openapi-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('describes every route of the app, and only those, as OpenAPI 3.1', async () => {
  const token = 'openapi-test-token-0123456789';
  const config = ServiceConfig.parse({
    store: { sqlite: path.join(dir, 't.db') },
    http: { listen: '127.0.0.1:0', token, reportPath: '/reports/tlsrpt' },
    collector: { socket: path.join(dir, 'c.sock') },
    SystemSettings: { domain: 'example.org', hostname: 'mx.example.org' },
  });
  const svc = await startService(config, silentLog);
  try {
    const base = `http://127.0.0.1:${svc.http.port}`;
    assert.equal((await fetch(`${base}/api/v1/openapi.json`)).status, 401, 'under /api: needs the token');
    const res = await fetch(`${base}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const doc = await res.json() as { openapi: string; paths: Record<string, Record<string, { summary: string; requestBody?: any; security: unknown[]; parameters?: any[] }>> };
    assert.match(doc.openapi, /^3\.1\./);

    const toOpen = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const inApp = appRoutes(svc.app).map((r) => `${r.method} ${toOpen(r.path)}`).sort();
    const inDoc = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    assert.deepEqual(inDoc, inApp, 'the document names exactly the routes the app has');
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) assert.notEqual(op.summary, '(not described)', `${m.toUpperCase()} ${p} has no describeRoute next to it`);
    }
    // Every description belongs to a route the app has (a description left behind by a removed route fails).
    const described = describedRoutes().map((r) => `${r.method} ${toOpen(r.path)}`).sort();
    assert.deepEqual(described, inApp);

    // The configured report path, public; the events body is the zod schema that validates it.
    assert.deepEqual(doc.paths['/reports/tlsrpt']!.post!.security, []);
    const events = doc.paths['/api/v1/events']!.post!;
    const schema = events.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required, ['events']);
    assert.equal(schema.additionalProperties, false);
    assert.ok(JSON.stringify(schema).includes('"result-type"'));
    assert.ok(events.security.length > 0);
    const settings = doc.paths['/api/v1/settings/{name}']!;
    assert.ok(settings.put, 'PUT documented');
    assert.ok(JSON.stringify(settings.get).includes('"locked"'), 'the GET shape shows the lock per field');
    assert.ok(doc.paths['/api/v1/inbound/reports']!.get!.parameters!.some((p: { name: string }) => p.name === 'hasFailures'));
  } finally {
    await svc.stop();
  }
});

/**
 * @module test/web/sessions-stored — web UI sessions kept in the store, on both databases: a
 * sign-in made on one node opens the API on another and survives a restart (a new process on the
 * same database); signing out on one node ends it on all; expiry and the session cap hold; the
 * database holds a hash of the cookie value, never the value.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createApp } from '../../src/http/app.js';
import { tokenAuth } from '../../src/http/auth.js';
import { createStoredSessionStore } from '../../src/http/session.js';
import { forEachStore, reopen } from '../support/stores.js';
import type { Store } from '../../src/store/index.js';

const TOKEN = 'stored-session-token-0123456789';

function node(store: Store, opts: { now?: () => number; maxSessions?: number } = {}) {
  const app = createApp({ auth: tokenAuth(TOKEN), sessions: createStoredSessionStore(store, { ttlSeconds: 60, ...opts }) });
  const signIn = async () => {
    const res = await app.request('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    assert.equal(res.status, 204);
    const pairs = res.headers.getSetCookie().map((c) => c.split(';')[0]!);
    return { cookie: pairs.join('; '), id: pairs[0]!.split('=')[1]!, csrf: pairs[1]!.split('=')[1]! };
  };
  const status = async (cookie: string) => (await app.request('/api/v1/session', { headers: { cookie } })).status;
  return { app, signIn, status };
}

forEachStore('stored web sessions', (open) => {
  it('one sign-in holds on every node and across a restart; sign-out on one node ends it on all', async () => {
    const store = await open();
    const a = node(store);
    const s = await a.signIn();
    const other = await reopen(store);
    const later = await reopen(store);
    try {
      const b = node(other);
      assert.equal(await b.status(s.cookie), 200, 'signed in on a, good on b');
      const restarted = node(later);
      assert.equal(await restarted.status(s.cookie), 200, 'good after a restart');
      const rows = await store.db.selectFrom('web_session').selectAll().execute();
      assert.deepEqual(rows.map((r) => r.id_hash), [createHash('sha256').update(s.id).digest('hex')], 'only the hash is stored');
      assert.equal((await b.app.request('/api/v1/session', { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })).status, 204);
      assert.equal(await a.status(s.cookie), 401, 'signed out on b, dead on a');
    } finally {
      await other.close();
      await later.close();
    }
  });

  it('sessions expire, expired rows are purged, and at most maxSessions live', async () => {
    const store = await open();
    let t = 1_000_000;
    const n = node(store, { now: () => t, maxSessions: 3 });
    const first = await n.signIn();
    t += 60;
    assert.equal(await n.status(first.cookie), 401, 'expired after 60 s');
    t += 1;
    const live = [];
    for (let i = 0; i < 4; i++, t += 1) live.push(await n.signIn());
    const rows = await store.db.selectFrom('web_session').select('created_at').orderBy('created_at').execute();
    assert.deepEqual(rows.map((r) => Number(r.created_at)), [t - 3, t - 2, t - 1], 'the expired one purged, the oldest live one pushed out');
    assert.equal(await n.status(live[0]!.cookie), 401);
    assert.equal(await n.status(live[3]!.cookie), 200);
  });
});

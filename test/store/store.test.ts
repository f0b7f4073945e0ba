/** @module test/store/store — the store foundation on both databases: open, migrate, upsert, int8. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { forEachStore, reopen } from '../support/stores.js';
import { openStore, StoreError } from '../../src/store/index.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { migrations } from '../../src/store/migrations/index.js';

const execFileAsync = promisify(execFile);

forEachStore('store', (open) => {
  test('opens with every migration applied, and re-running them is a no-op', async () => {
    const store = await open();
    const done = await (store.db as Kysely<any>).selectFrom('kysely_migration').select('name').orderBy('name').execute();
    assert.deepEqual(done.map((r) => r.name), migrations.map((m) => m.name).sort());
    assert.deepEqual(await migrateToLatest(store.db as Kysely<any>, store.kind), []);
    const second = await reopen(store);
    try {
      const again = await (second.db as Kysely<any>).selectFrom('kysely_migration').select('name').execute();
      assert.equal(again.length, migrations.length);
    } finally {
      await second.close();
    }
  });

  test('two processes migrating the same fresh database at once both succeed', async () => {
    const base = await open({ skipMigrations: true });
    const script = `import { openStore } from ${JSON.stringify(new URL('../../src/store/index.ts', import.meta.url).href)};
      const s = await openStore(JSON.parse(process.argv[1])); await s.close(); console.log('ok');`;
    const runOne = () =>
      execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(base.config)], { timeout: 60_000 });
    const outs = await Promise.all([runOne(), runOne()]);
    assert.deepEqual(outs.map((o) => o.stdout.trim()), ['ok', 'ok']);
    const rows = await (base.db as Kysely<any>).selectFrom('kysely_migration').select('name').execute();
    assert.equal(rows.length, migrations.length);
  });

  test('upsert on conflict updates the existing row', async () => {
    const store = await open();
    const put = (value: string) =>
      store.db.insertInto('meta').values({ key: 'k', value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
    await put('one');
    await put('two');
    const rows = await store.db.selectFrom('meta').selectAll().execute();
    assert.deepEqual(rows, [{ key: 'k', value: 'two' }]);
  });

  test('bigint columns, count(*) and sum() come back as numbers', async () => {
    const store = await open();
    const db = store.db as Kysely<any>;
    await db.schema.createTable('t_counts').addColumn('n', 'bigint', (c) => c.notNull()).execute();
    await db.insertInto('t_counts').values([{ n: 4_000_000_000 }, { n: 2 }]).execute();
    const rows = await db.selectFrom('t_counts').select('n').orderBy('n').execute();
    assert.deepEqual(rows, [{ n: 2 }, { n: 4_000_000_000 }]);
    const agg = await db
      .selectFrom('t_counts')
      .select((eb) => [eb.fn.countAll().as('c'), eb.fn.sum('n').as('s'), sql`max(n) / 86400`.as('d')])
      .executeTakeFirstOrThrow();
    assert.deepEqual(agg, { c: 2, s: 4_000_000_002, d: Math.floor(4_000_000_000 / 86400) });
  });

  test('a closed store can be closed again', async () => {
    const store = await open();
    await store.close();
    await store.close();
  });
});

test('PostgreSQL connection errors name the server and what to fix', async () => {
  await assert.rejects(
    openStore({ postgres: 'postgres://nobody:secret@127.0.0.1:1/nothing' }),
    (e: unknown) => e instanceof StoreError && e.code === 'postgres-connect' && /127\.0\.0\.1:1/.test(e.message) && !/secret/.test(e.message),
  );
});

test('SQLite creates the parent folder of its database file', async () => {
  const { mkdtempSync, existsSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-store-'));
  try {
    const file = path.join(dir, 'nested', 'data', 'tlsrpt.db');
    const store = await openStore({ sqlite: file });
    await store.close();
    assert.ok(existsSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

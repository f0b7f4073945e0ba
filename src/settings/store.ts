/**
 * @module settings/store — the singletons in the store: one row per singleton holding its JSON as
 * accepted, with a version that grows on every write (nodes poll versions to notice changes).
 */
import { sql } from 'kysely';
import type { Store } from '../store/index.js';
import { isSingletonName, type SingletonName } from './fields.js';

export interface StoredSingleton {
  value: Record<string, unknown>;
  version: number;
  updatedAt: number;
}

/** Every stored singleton. A row whose JSON does not parse is reported as `corrupt` and left out. */
export async function readStoredSettings(store: Store): Promise<{ rows: Map<SingletonName, StoredSingleton>; corrupt: string[] }> {
  const result = await store.db.selectFrom('settings').select(['name', 'value', 'version', 'updated_at']).execute();
  const rows = new Map<SingletonName, StoredSingleton>();
  const corrupt: string[] = [];
  for (const r of result) {
    if (!isSingletonName(r.name)) continue;
    try {
      const value = JSON.parse(r.value);
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
      rows.set(r.name, { value, version: Number(r.version), updatedAt: Number(r.updated_at) });
    } catch {
      corrupt.push(r.name);
    }
  }
  return { rows, corrupt };
}

/** `name:version` of every stored singleton, in a stable order: cheap to poll. */
export async function readSettingsVersions(store: Store): Promise<string> {
  const result = await store.db.selectFrom('settings').select(['name', 'version']).orderBy('name').execute();
  return result.map((r) => `${r.name}:${Number(r.version)}`).join(',');
}

/** Replaces a singleton (insert or update, version + 1); returns the new version. */
export async function writeSingleton(store: Store, name: SingletonName, value: Record<string, unknown>, now: number): Promise<number> {
  const text = JSON.stringify(value);
  await store.db
    .insertInto('settings')
    .values({ name, value: text, version: 1, updated_at: now })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value: text, version: sql<number>`settings.version + 1`, updated_at: now }))
    .execute();
  const row = await store.db.selectFrom('settings').select('version').where('name', '=', name).executeTakeFirstOrThrow();
  return Number(row.version);
}

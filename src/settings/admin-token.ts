/**
 * @module settings/admin-token — the admin API token at rest: only its SHA-256 is stored
 * (`admin_token`, one row). Generation, first-start creation and rotation live here so the CLI
 * and the HTTP layer share them.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/index.js';

/** SHA-256 of a token, hex. Tokens are 256-bit random (or operator-chosen ≥ 16 chars): a plain hash suffices. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function readAdminTokenHash(store: Store): Promise<string | undefined> {
  const row = await store.db.selectFrom('admin_token').select('token_hash').where('id', '=', 'admin').executeTakeFirst();
  return row?.token_hash;
}

/** Stores the hash of `token` unless a token exists already; true when this call stored it. */
export async function createAdminTokenIfNone(store: Store, token: string, now: number): Promise<boolean> {
  const r = await store.db
    .insertInto('admin_token')
    .values({ id: 'admin', token_hash: hashToken(token), created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Replaces the stored admin token with a new one and returns it (for an operator who lost it). */
export async function rotateAdminToken(store: Store, now = Math.floor(Date.now() / 1000)): Promise<string> {
  const token = generateToken();
  const hash = hashToken(token);
  await store.db
    .insertInto('admin_token')
    .values({ id: 'admin', token_hash: hash, created_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ token_hash: hash, created_at: now }))
    .execute();
  return token;
}

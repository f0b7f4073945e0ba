/** @module store/tables/core — tables of the store itself (key/value metadata) and of the web UI's sign-ins. */

/** `meta`: small key/value facts about the database (schema notes, last purge time…). */
export interface MetaTable {
  key: string;
  value: string;
}

/** `web_session`: a signed-in browser (http/session.ts); the cookie value itself is never stored. */
export interface WebSessionTable {
  /** sha256 (hex) of the cookie value. */
  id_hash: string;
  csrf: string;
  /** Epoch seconds. */
  created_at: number;
  expires_at: number;
}

export interface CoreTables {
  meta: MetaTable;
  web_session: WebSessionTable;
}

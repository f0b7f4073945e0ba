/** @module store/tables/core — tables of the store itself (key/value metadata). */

/** `meta`: small key/value facts about the database (schema notes, last purge time…). */
export interface MetaTable {
  key: string;
  value: string;
}

export interface CoreTables {
  meta: MetaTable;
}

/** @module store/tables/settings — table types of the settings area: the stored settings singletons and the admin token hash. */

/**
 * `settings`: one row per singleton (`TlsReportSettings`, `ReportSettings`, `SystemSettings`);
 * `value` is the singleton's JSON exactly as accepted. `version` grows by one on every write, so
 * every node sharing the database notices a change by polling `(name, version)`.
 */
export interface SettingsTable {
  name: string;
  value: string;
  version: number;
  updated_at: number;
}

/** `admin_token`: the SHA-256 (hex) of the generated admin bearer token; one row, id `'admin'`. */
export interface AdminTokenTable {
  id: string;
  token_hash: string;
  created_at: number;
}

export interface SettingsTables {
  settings: SettingsTable;
  admin_token: AdminTokenTable;
}


/**
 * @module store/migrations/0410_report_domain — windows and reports are keyed by the REPORT
 * domain (the domain whose TLSRPT record names the targets: libtlsrpt's `d`, the recipient
 * domain), no longer by a policy's domain. RFC 8460 §4.4 makes one report per domain that
 * published the record; a DANE policy's `policy-domain` is the MX host (Postfix 3.12), so the
 * old key split dane.example's sessions into one report per MX host, each mailed to the wrong
 * place. Each policy keeps its own `policy-domain` inside `policy_json`.
 *
 * A rename keeps every row (for all but DANE the two domains are the same); the partial unique
 * index and the report index follow the column on both SQLite (3.25+) and PostgreSQL.
 */
import { sql, type Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, _kind: StoreKind): Promise<void> {
  await sql`alter table outbound_window rename column policy_domain to report_domain`.execute(db);
  await sql`alter table outbound_report rename column policy_domain to report_domain`.execute(db);
}

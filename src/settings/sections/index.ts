/**
 * @module settings/sections — the table of config sections: one module per section under this
 * folder, each exporting its zod schema (the only copy: the areas import their section's type
 * from here) and where its file paths sit. `ServiceConfig` in `../config.ts` is composed from
 * this table, so `settings validate` and `serve` check every section the same way.
 *
 * Adding a section: write `sections/<name>.ts` exporting a `SectionSpec`, add one line below.
 */
import type { SectionSpec } from './common.js';
import { store } from './store.js';
import { http } from './http.js';
import { collector } from './collector.js';
import { smtp } from './smtp.js';
import { imap } from './imap.js';
import { relay } from './relay.js';
import { dkim } from './dkim.js';
import { dns } from './dns.js';
import { delivery } from './delivery.js';
import { receiving } from './receiving.js';
import { retention } from './retention.js';
import { cluster } from './cluster.js';
import { alerts } from './alerts.js';
import { singleton } from './singletons.js';

export const SECTIONS = {
  store, http, collector, smtp, imap, relay, dkim, dns, delivery, receiving, retention, cluster, alerts,
  TlsReportSettings: singleton, ReportSettings: singleton, SystemSettings: singleton,
} as const satisfies Record<string, SectionSpec>;

export type SectionName = keyof typeof SECTIONS;
export type { SectionSpec } from './common.js';

export { StoreSection } from './store.js';
export { HttpSection } from './http.js';
export { CollectorSection } from './collector.js';
export { SmtpSection, SmtpOnwardSection } from './smtp.js';
export { ImapSection, ImapAccountSection, type ImapAccount } from './imap.js';
export { RelaySection } from './relay.js';
export { DkimSection, DkimKeySection } from './dkim.js';
export { DnsSection } from './dns.js';
export { DeliverySection } from './delivery.js';
export { ReceivingSection } from './receiving.js';
export { ClusterSection } from './cluster.js';
export { RetentionSection, DEFAULT_INBOUND_RETENTION_DAYS } from './retention.js';
export { AlertsSection } from './alerts.js';
export { stalwart015Message, STALWART_015_KEYS } from './singletons.js';

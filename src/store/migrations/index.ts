/**
 * @module store/migrations/index — the ordered list of schema migrations, one module per area.
 * Add a line per area (names sort in order: 0001 core, 0100 settings, 0200 inbound,
 * 0300 outbound, 0400 delivery). Each module exports `up(db, kind)`.
 */
import type { Kysely } from 'kysely';
import type { StoreKind } from '../schema.js';
import * as m0001 from './0001_core.js';
import * as m0100 from './0100_settings.js';
import * as m0200 from './0200_inbound.js';
import * as m0201 from './0201_inbound_ui.js';
import * as m0400 from './0400_delivery.js';
import * as m0300 from './0300_outbound.js';
import * as m0301 from './0301_outbound_journal.js';
import * as m0401 from './0401_cluster_nodes.js';
import * as m0410 from './0410_report_domain.js';
import * as m0500 from './0500_alerts.js';
import * as m0501 from './0501_published_policy.js';
import * as m0510 from './0510_inbound_verified.js';
import * as m0520 from './0520_inbound_content_index.js';
import * as m0525 from './0525_inbound_packed.js';
import * as m0530 from './0530_report_building_index.js';
import * as m0540 from './0540_web_session.js';
import * as m0545 from './0545_target_due_index.js';

export interface MigrationModule {
  up(db: Kysely<any>, kind: StoreKind): Promise<void>;
}

export const migrations: { name: string; module: MigrationModule }[] = [
  { name: '0001_core', module: m0001 },
  { name: '0100_settings', module: m0100 },
  { name: '0200_inbound', module: m0200 },
  { name: '0201_inbound_ui', module: m0201 },
  { name: '0300_outbound', module: m0300 },
  { name: '0301_outbound_journal', module: m0301 },
  { name: '0400_delivery', module: m0400 },
  { name: '0401_cluster_nodes', module: m0401 },
  { name: '0410_report_domain', module: m0410 },
  { name: '0500_alerts', module: m0500 },
  { name: '0501_published_policy', module: m0501 },
  { name: '0510_inbound_verified', module: m0510 },
  { name: '0520_inbound_content_index', module: m0520 },
  { name: '0525_inbound_packed', module: m0525 },
  { name: '0530_report_building_index', module: m0530 },
  { name: '0540_web_session', module: m0540 },
  { name: '0545_target_due_index', module: m0545 },
];

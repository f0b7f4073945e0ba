/**
 * @module store/schema — the Kysely `Database` type: every area's tables, gathered from
 * `src/store/tables/<area>.ts`. Each area owns its own table file and migration.
 */
import type { CoreTables } from './tables/core.js';
import type { SettingsTables } from './tables/settings.js';
import type { InboundTables } from './tables/inbound.js';
import type { OutboundTables } from './tables/outbound.js';
import type { DeliveryTables } from './tables/delivery.js';
import type { AlertTables } from './tables/alerts.js';

export interface Database extends CoreTables, SettingsTables, InboundTables, OutboundTables, DeliveryTables, AlertTables {}

export type StoreKind = 'sqlite' | 'postgres';

/** @module settings/sections/alerts — `alerts`: rules, e-mail and webhook notification (schema in ../alerts.ts). */
import type { SectionSpec } from './common.js';
import { AlertsConfig } from '../alerts.js';

export const AlertsSection = AlertsConfig.optional();
export const alerts = { schema: AlertsSection, paths: ['webhook.caFile'] } satisfies SectionSpec;

/**
 * @module settings/preview — "for recipient domain X this evaluates to …": checks candidate
 * TlsReportSettings / ReportSettings values (not stored) and evaluates every report field for one
 * recipient domain, field by field, so the settings page can validate as the user types and show
 * what a report to that domain would carry. A field that does not compile or whose value does not
 * fit its type reports that (with the position, as on save) instead of silently using its default
 * as the running service would.
 */
import { normalizeDomain } from '../common/domain.js';
import { ExprError, type ExprHost, type Value, type Vars } from '../expr/index.js';
import { FIELDS, REPORT_FIELDS, STALWART_QUEUE_VARIABLES, TLS_REPORT_FIELDS, type FieldSpec } from './fields.js';
import { compileField, validateSingleton, type SettingError } from './validate.js';

export interface PreviewInput {
  rcptDomain: string;
  TlsReportSettings?: Record<string, unknown>;
  ReportSettings?: Record<string, unknown>;
}

/** One field's outcome: the converted value, or why there is none. */
export type FieldPreview = { value: unknown; default: boolean } | { error: string; position?: number; default: boolean };

export interface Preview {
  rcptDomain: string;
  /** Every error `PUT /api/v1/settings/{name}` would answer for these values. */
  errors: SettingError[];
  fields: Record<string, FieldPreview>;
}

/** Evaluated for the preview's `report_id`, `period_start`, `period_end` variables. */
const SAMPLE_PERIOD = { start: '2026-01-01T00:00:00Z', end: '2026-01-01T23:59:59Z' };

export interface PreviewContext {
  /** SystemSettings in force (`system('domain')`…). */
  system: { domain: string; hostname: string };
  nodeId: string;
  localDomains?: readonly string[];
}

function evaluateField(spec: FieldSpec, given: unknown, host: ExprHost, vars: Vars): FieldPreview {
  const isDefault = given === undefined || given === null;
  try {
    const compiled = compileField(spec, isDefault ? spec.default : given, host);
    const r = spec.convert(compiled.evaluate(vars) as Value);
    if (!r.ok) return { error: `${r.reason} (${spec.name} needs ${spec.type})`, default: isDefault };
    return { value: r.value ?? false, default: isDefault };
  } catch (e) {
    if (e instanceof ExprError) return { error: e.message, ...(e.position >= 0 ? { position: e.position } : {}), default: isDefault };
    return { error: `evaluation failed: ${(e as Error).message}`, default: isDefault };
  }
}

/**
 * @example
 * previewReportSettings({ rcptDomain: 'example.org', TlsReportSettings: { fromName: { else: "'TLS ' + rcpt_domain" } } },
 *   { system: { domain: 'example.com', hostname: 'mx.example.com' }, nodeId: 'n1' }).fields.fromName
 * // { value: 'TLS example.org', default: false }
 */
export function previewReportSettings(input: PreviewInput, ctx: PreviewContext): Preview {
  const rcptDomain = normalizeDomain(input.rcptDomain);
  const errors: SettingError[] = [];
  if (input.TlsReportSettings !== undefined) errors.push(...validateSingleton('TlsReportSettings', input.TlsReportSettings));
  if (input.ReportSettings !== undefined) errors.push(...validateSingleton('ReportSettings', input.ReportSettings));
  const local = new Set([ctx.system.domain, ...(ctx.localDomains ?? [])].map(normalizeDomain));
  const host: ExprHost = {
    system: (name) => (name === 'domain' ? ctx.system.domain : name === 'hostname' ? ctx.system.hostname : name === 'node_id' ? ctx.nodeId : ''),
    isLocalDomain: (d) => local.has(normalizeDomain(d)),
  };
  const fields: Record<string, FieldPreview> = {};
  const submitter = evaluateField(REPORT_FIELDS.outboundReportSubmitter, input.ReportSettings?.outboundReportSubmitter, host, { rcpt_domain: rcptDomain });
  fields.outboundReportSubmitter = submitter;
  const vars: Vars = {
    rcpt_domain: rcptDomain,
    // The running service falls back to the default submitter when this one fails: so does the preview.
    submitter: 'value' in submitter ? String(submitter.value) : String((evaluateField(REPORT_FIELDS.outboundReportSubmitter, undefined, host, { rcpt_domain: rcptDomain }) as { value?: unknown }).value ?? ''),
    report_id: `${SAMPLE_PERIOD.start}_${rcptDomain}`,
    period_start: SAMPLE_PERIOD.start,
    period_end: SAMPLE_PERIOD.end,
  };
  for (const spec of Object.values(TLS_REPORT_FIELDS) as FieldSpec[]) {
    fields[spec.name] = evaluateField(spec, input.TlsReportSettings?.[spec.name], host, vars);
  }
  return { rcptDomain, errors, fields };
}

export interface FormField {
  singleton: 'TlsReportSettings' | 'ReportSettings';
  field: string;
  default: unknown;
  type: string;
  /** The variables worth offering (Stalwart's queue variables parse but are always "" here). */
  variables: string[];
}

/** The fields the settings page edits, with their defaults and types (for the form). */
export function reportSettingsForm(): FormField[] {
  const row = (singleton: FormField['singleton'], s: FieldSpec): FormField => ({
    singleton, field: s.name, default: s.default, type: s.type, variables: s.variables.filter((v) => !STALWART_QUEUE_VARIABLES.includes(v)),
  });
  return [
    ...(Object.values(FIELDS.TlsReportSettings) as FieldSpec[]).map((s) => row('TlsReportSettings', s)),
    row('ReportSettings', REPORT_FIELDS.outboundReportSubmitter as FieldSpec),
  ];
}

/**
 * @module settings/snapshot — one consistent, compiled set of the three singletons with typed
 * accessors. Building never throws: a field that does not compile (a value stored by hand, an
 * older rule) uses its default; an evaluation or conversion that fails falls back to the default
 * for that call and is logged once per field.
 */
import type { Logger } from '../common/log.js';
import { ExprError, type CompiledSetting, type ExprHost, type Vars } from '../expr/index.js';
import { FIELDS, REPORT_FIELDS, SYSTEM_FIELDS, TLS_REPORT_FIELDS, type FieldSpec, type Frequency, type SingletonName } from './fields.js';
import { compileField } from './validate.js';
import { normalizeDomain } from '../common/domain.js';

/** The singletons as JSON objects (what a file holds, or the store). */
export type RawSettings = Partial<Record<SingletonName, Record<string, unknown>>>;

export interface TlsReportVars {
  rcptDomain: string;
  reportId?: string;
  periodStartIso?: string;
  periodEndIso?: string;
}

export interface TlsReportValues {
  fromName: string;
  fromAddress: string;
  subject: string;
  orgName: string;
  /** Unset when the setting evaluates to false (then `fromAddress` is the contact, RFC 8460 §4.3 requires one). */
  contactInfo?: string;
  maxReportSize: number;
  dkimSignDomain: string;
  submitter: string;
}

/** Typed settings for the running service (docs/ARCHITECTURE.md, "Locking"). */
export interface SettingsService {
  tlsReport(vars: TlsReportVars): TlsReportValues;
  sendFrequency(rcptDomain: string): Frequency;
  outboundReportSubmitter(rcptDomain: string): string;
  inbound(): { addresses: string[]; forwarding: boolean; maxSize: number };
  system(): { domain: string; hostname: string };
}

export interface SnapshotOptions {
  log: Logger;
  /** What `system('node_id')` returns: this node's own name, never shared. */
  nodeId: string;
  /** SystemSettings defaults (from the machine's host name). */
  machine: { domain: string; hostname: string };
  /** Domains `is_local_domain()` answers true for, besides SystemSettings.domain (e.g. DKIM domains). */
  localDomains?: readonly string[];
}

type Evaluator<T> = (vars: Vars) => T;


export function buildSnapshot(raw: RawSettings, opts: SnapshotOptions): SettingsService {
  const { log } = opts;
  const logged = new Set<string>();
  const once = (key: string, fn: () => void) => {
    if (logged.has(key)) return;
    logged.add(key);
    fn();
  };

  const compileOrDefault = (singleton: SingletonName, spec: FieldSpec, host?: ExprHost): { value: CompiledSetting; fallback: CompiledSetting } => {
    const fallback = compileField(spec, spec.default, host);
    const given = raw[singleton]?.[spec.name];
    if (given === undefined || given === null) return { value: fallback, fallback };
    try {
      return { value: compileField(spec, given, host), fallback };
    } catch (e) {
      const field = `${singleton}.${spec.name}`;
      log.error({ field, error: e instanceof ExprError ? e.message : String(e) }, 'setting does not compile; its default is used');
      return { value: fallback, fallback };
    }
  };

  const evaluator = <T>(singleton: SingletonName, spec: FieldSpec<T>, host?: ExprHost): Evaluator<T> => {
    const { value, fallback } = compileOrDefault(singleton, spec, host);
    const field = `${singleton}.${spec.name}`;
    return (vars) => {
      let reason: string;
      try {
        const r = spec.convert(value.evaluate(vars));
        if (r.ok) return r.value;
        reason = r.reason;
      } catch (e) {
        reason = `evaluation failed: ${(e as Error).message}`;
      }
      once(field, () => log.warn({ field, reason, rcptDomain: vars.rcpt_domain }, `setting ${field} fell back to its default: ${reason}`));
      if (value !== fallback) {
        try {
          const d = spec.convert(fallback.evaluate(vars));
          if (d.ok) return d.value;
        } catch {
          /* the built-in last resort below */
        }
      }
      return spec.last;
    };
  };

  // SystemSettings: literal values (no host of their own).
  const systemValue = (spec: FieldSpec<string>, machine: string): string => {
    const given = raw.SystemSettings?.[spec.name];
    const chosen = given === undefined || given === null ? machine : given;
    try {
      const r = spec.convert(compileField(spec, chosen).evaluate({}));
      if (r.ok) return r.value.toLowerCase();
      log.warn({ field: `SystemSettings.${spec.name}`, reason: r.reason }, 'SystemSettings value unusable; the machine default is used');
    } catch (e) {
      log.warn({ field: `SystemSettings.${spec.name}`, error: (e as Error).message }, 'SystemSettings value unusable; the machine default is used');
    }
    return machine;
  };
  const system = Object.freeze({
    domain: systemValue(SYSTEM_FIELDS.domain, opts.machine.domain),
    hostname: systemValue(SYSTEM_FIELDS.hostname, opts.machine.hostname),
  });
  const localDomains = new Set([system.domain, ...(opts.localDomains ?? [])].map(normalizeDomain));
  const host: ExprHost = {
    system: (name) => (name === 'domain' ? system.domain : name === 'hostname' ? system.hostname : name === 'node_id' ? opts.nodeId : ''),
    isLocalDomain: (d) => localDomains.has(normalizeDomain(d)),
  };

  const tls = 'TlsReportSettings';
  const fromName = evaluator(tls, TLS_REPORT_FIELDS.fromName, host);
  const fromAddress = evaluator(tls, TLS_REPORT_FIELDS.fromAddress, host);
  const subject = evaluator(tls, TLS_REPORT_FIELDS.subject, host);
  const orgName = evaluator(tls, TLS_REPORT_FIELDS.orgName, host);
  const contactInfo = evaluator(tls, TLS_REPORT_FIELDS.contactInfo, host);
  const sendFrequency = evaluator(tls, TLS_REPORT_FIELDS.sendFrequency, host);
  const maxReportSize = evaluator(tls, TLS_REPORT_FIELDS.maxReportSize, host);
  const dkimSignDomain = evaluator(tls, TLS_REPORT_FIELDS.dkimSignDomain, host);
  const submitter = evaluator('ReportSettings', REPORT_FIELDS.outboundReportSubmitter, host);
  // The inbound fields take no variables: evaluate once per snapshot.
  const inbound = Object.freeze({
    addresses: Object.freeze(evaluator('ReportSettings', REPORT_FIELDS.inboundReportAddresses, host)({})) as string[],
    forwarding: evaluator('ReportSettings', REPORT_FIELDS.inboundReportForwarding, host)({}),
    maxSize: evaluator('ReportSettings', REPORT_FIELDS.inboundReportMaxSize, host)({}),
  });

  return {
    tlsReport(v) {
      const rcptDomain = v.rcptDomain;
      const sub = submitter({ rcpt_domain: rcptDomain });
      const vars = {
        rcpt_domain: rcptDomain,
        submitter: sub,
        report_id: v.reportId ?? '',
        period_start: v.periodStartIso ?? '',
        period_end: v.periodEndIso ?? '',
      };
      const out: TlsReportValues = {
        fromName: fromName(vars),
        fromAddress: fromAddress(vars),
        subject: subject(vars),
        orgName: orgName(vars),
        maxReportSize: maxReportSize(vars),
        dkimSignDomain: dkimSignDomain(vars),
        submitter: sub,
      };
      const contact = contactInfo(vars);
      if (contact !== undefined) out.contactInfo = contact;
      return out;
    },
    sendFrequency: (rcptDomain) => sendFrequency({ rcpt_domain: rcptDomain }),
    outboundReportSubmitter: (rcptDomain) => submitter({ rcpt_domain: rcptDomain }),
    inbound: () => ({ addresses: [...inbound.addresses], forwarding: inbound.forwarding, maxSize: inbound.maxSize }),
    system: () => ({ domain: system.domain, hostname: system.hostname }),
  };
}

export { FIELDS };

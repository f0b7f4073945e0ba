/**
 * @module sending/report/settings-view — the part of the SettingsService that report
 * building and delivery read (structural, so the sending area does not depend on how
 * settings are stored), and the boundary check of every expression-valued field that reaches
 * a header or the envelope: a bad value is refused, logged and replaced by the default, or —
 * where no safe default exists — fails the attempt with a clear, retried error.
 */
import type { Logger } from '../../common/log.js';
import { HeaderValueError, headerAddress, headerDomain, headerText } from './headers.js';

import type { Frequency as SendFrequency } from '../../settings/fields.js';

export type { SendFrequency };

export interface TlsReportValues {
  fromName: string; fromAddress: string; subject: string; orgName: string; contactInfo?: string;
  maxReportSize: number; dkimSignDomain: string; submitter: string;
}

/** What sending reads from SettingsService (src/settings); the real service satisfies it. */
export interface ReportSettingsSource {
  tlsReport(vars: { rcptDomain: string; reportId?: string; periodStartIso?: string; periodEndIso?: string }): TlsReportValues;
  sendFrequency(rcptDomain: string): SendFrequency;
  outboundReportSubmitter(rcptDomain: string): string;
  system(): { domain: string; hostname: string };
}

/** Defaults of docs/spec/settings.md, used when an expression returns something unusable. */
export const DEFAULT_FROM_NAME = 'Report Subsystem';
export const DEFAULT_SUBJECT = 'TLS Aggregate Report';
export const DEFAULT_MAX_REPORT_SIZE = 5242880;

/** The checked values for one report: every one of them is safe in a header / the envelope / the JSON. */
export interface CheckedReportValues {
  fromName: string;
  fromAddress: string;
  subject: string;
  orgName: string;
  contactInfo: string;
  maxReportSize: number;
  dkimSignDomain: string;
  submitter: string;
  /** Fields that were refused and replaced by their default. */
  refused: { field: string; error: string }[];
}

/**
 * Evaluates the settings for a policy domain and checks each value at the boundary. Throws
 * HeaderValueError only when neither the value nor its default is usable (fromAddress and
 * submitter without a usable system domain / hostname).
 */
export function checkedReportValues(
  settings: ReportSettingsSource,
  vars: { rcptDomain: string; reportId?: string; periodStartIso?: string; periodEndIso?: string },
  log: Logger,
): CheckedReportValues {
  const refused: { field: string; error: string }[] = [];
  let raw: Partial<TlsReportValues>;
  try {
    raw = settings.tlsReport(vars);
  } catch (e) {
    refused.push({ field: 'TlsReportSettings', error: (e as Error).message });
    raw = {};
  }
  const sys = (() => {
    try {
      return settings.system();
    } catch {
      return { domain: '', hostname: '' };
    }
  })();
  const pick = <T>(field: string, check: () => T, fallback: () => T): T => {
    try {
      return check();
    } catch (e) {
      const error = e instanceof HeaderValueError ? e.message : `${field}: ${(e as Error).message}`;
      refused.push({ field, error });
      log.warn({ field, rcptDomain: vars.rcptDomain, error }, 'report setting refused, using the default');
      return fallback();
    }
  };
  const fromName = pick('fromName', () => headerText('fromName', raw.fromName, 200), () => DEFAULT_FROM_NAME);
  const fromAddress = pick('fromAddress', () => headerAddress('fromAddress', raw.fromAddress), () => headerAddress('fromAddress (default)', `noreply-tls@${sys.domain}`));
  const subject = pick('subject', () => headerText('subject', raw.subject), () => DEFAULT_SUBJECT);
  // organization-name and contact-info only go into the JSON (escaped by the serializer), but a
  // control character there is still no organisation's name: refuse it the same way.
  const orgName = pick('orgName', () => headerText('orgName', raw.orgName, 500), () => headerDomain('orgName (default)', sys.domain));
  const contactInfo = raw.contactInfo === undefined || raw.contactInfo === ''
    ? fromAddress
    : pick('contactInfo', () => headerText('contactInfo', raw.contactInfo, 500), () => fromAddress);
  const maxReportSize = pick('maxReportSize', () => {
    const n = Number(raw.maxReportSize);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive size: ${String(raw.maxReportSize)}`);
    return Math.floor(n);
  }, () => DEFAULT_MAX_REPORT_SIZE);
  const dkimSignDomain = pick('dkimSignDomain', () => headerDomain('dkimSignDomain', raw.dkimSignDomain), () => headerDomain('dkimSignDomain (default)', sys.domain));
  const submitter = pick('outboundReportSubmitter', () => headerDomain('outboundReportSubmitter', raw.submitter ?? settings.outboundReportSubmitter(vars.rcptDomain)), () => headerDomain('outboundReportSubmitter (default)', sys.hostname));
  return { fromName, fromAddress, subject, orgName, contactInfo, maxReportSize, dkimSignDomain, submitter, refused };
}

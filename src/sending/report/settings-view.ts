/**
 * @module sending/report/settings-view — the part of the SettingsService that report
 * building and delivery read (structural, so the sending area does not depend on how
 * settings are stored), and the boundary check of every expression-valued field that reaches
 * a header or the envelope: a bad value is refused, logged and replaced by the default, or —
 * where no safe default exists — fails the attempt with a clear, retried error.
 */
import type { Logger } from '../../common/log.js';
import { contactInfoDomain, reportSubject } from '../../rfc8460/naming.js';
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
  /**
   * Where each field's value comes from (SettingsHandle.effective): a field whose source is
   * 'default' was not set by the operator. Without it every field counts as set.
   */
  effective?(): Partial<Record<string, { fields: Record<string, { source: string }> }>>;
}

/** True when the operator set the field (file or store), false when its default is in force. */
export function operatorSet(settings: ReportSettingsSource, singleton: 'TlsReportSettings' | 'ReportSettings', field: string): boolean {
  const source = settings.effective?.()[singleton]?.fields[field]?.source;
  return source === undefined || source !== 'default';
}

/** Defaults of docs/spec/settings.md, used when an expression returns something unusable. */
export const DEFAULT_FROM_NAME = 'Report Subsystem';
/** Only when there is no report-id to build the RFC 8460 §5.3 subject from. */
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
 * Evaluates the settings for a report domain and checks each value at the boundary. Throws
 * HeaderValueError only when neither the value nor its default is usable (fromAddress and
 * submitter without a usable system domain / hostname).
 *
 * Where the operator set nothing, RFC 8460 decides (the seed defaults of spec/settings.md are
 * Stalwart's, which the RFC contradicts): the submitter — `TLS-Report-Submitter`, the file
 * name's sender, the subject's `Submitter:` — is the domain of contact-info (§5.1, §5.3), and
 * the subject is `Report Domain: <d> Submitter: <s> Report-ID: <<id>>` (§5.3).
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
  const hostDefault = () => headerDomain('outboundReportSubmitter (default)', sys.hostname);
  const submitter = operatorSet(settings, 'ReportSettings', 'outboundReportSubmitter')
    ? pick('outboundReportSubmitter', () => headerDomain('outboundReportSubmitter', raw.submitter ?? settings.outboundReportSubmitter(vars.rcptDomain)), hostDefault)
    : pick('outboundReportSubmitter', () => headerDomain('contact-info domain', contactInfoDomain(contactInfo) ?? contactInfo), hostDefault);
  const rfcSubject = () => (vars.reportId ? headerText('subject', reportSubject({ reportDomain: vars.rcptDomain, submitter, reportId: vars.reportId })) : DEFAULT_SUBJECT);
  const subject = operatorSet(settings, 'TlsReportSettings', 'subject')
    ? pick('subject', () => headerText('subject', raw.subject), rfcSubject)
    : pick('subject', rfcSubject, () => DEFAULT_SUBJECT);
  return { fromName, fromAddress, subject, orgName, contactInfo, maxReportSize, dkimSignDomain, submitter, refused };
}

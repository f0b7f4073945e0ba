/** @module rfc8460/values — small pure validators and normalisers the lenient parser shares (dates, IPs, counts) */
import type { Finding } from './types.js';
import { isoFromEpochMs } from '../common/time.js';

/** Most findings kept per report: a hostile report must not make its notes outgrow it. */
export const MAX_FINDINGS = 1000;

/** Collects findings; paths are built only when a finding is recorded. */
/** Largest session count kept (2^31 − 1): larger counts are clamped with a `count-too-large` finding. */
export const MAX_SESSION_COUNT = 2147483647;

export class FindingSink {
  readonly findings: Finding[] = [];
  private dropped = 0;
  add(code: string, path: string | undefined, message: string): void {
    if (this.findings.length >= MAX_FINDINGS) { this.dropped++; return; }
    this.findings.push(path === undefined ? { code, message } : { code, path, message });
  }
  /** The findings, plus one `findings-truncated` note when the cap was reached. */
  done(): Finding[] {
    if (this.dropped > 0) this.findings.push({ code: 'findings-truncated', message: `${this.dropped} more findings not recorded (limit ${MAX_FINDINGS})` });
    return this.findings;
  }
}

/** The result of reading one date-time: `iso` is RFC 3339 UTC `Z` at seconds precision. */
export interface DatetimeValue {
  iso: string;
  /** Epoch milliseconds, NaN when the text could not be read. */
  ms: number;
  /** Set when the text deviated from RFC 3339 UTC (a finding code). */
  deviation?: 'datetime-without-zone' | 'datetime-not-utc' | 'datetime-format' | 'invalid-datetime';
}

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function invalid(text: string): DatetimeValue {
  return { iso: text, ms: NaN, deviation: 'invalid-datetime' };
}

/**
 * Reads `YYYY-MM-DD[T| ]HH:MM:SS[.frac][Z|±HH:MM]` (RFC 3339 §5.6, plus the zone-less form
 * Microsoft sent in 2023, read as UTC per docs/spec/quirks.md). Hand-written: this runs for every report.
 */
export function readDatetime(text: string): DatetimeValue {
  const s = text.trim();
  if (s.length < 19) return invalid(text);
  const year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  const hour = digits(s, 11, 2), minute = digits(s, 14, 2);
  let second = digits(s, 17, 2);
  const sep = s.charCodeAt(10);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 24 ||
      minute < 0 || minute > 59 || second < 0 || second > 60) return invalid(text);
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return invalid(text);
  let deviation: DatetimeValue['deviation'];
  if (sep === 32) deviation = 'datetime-format';
  else if (sep !== 84 && sep !== 116) return invalid(text);
  if (second === 60) second = 59; // a leap second names the last second of that minute
  let i = 19;
  if (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44) {
    i++;
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start) return invalid(text);
  }
  let offsetMinutes = 0;
  if (i === s.length) {
    deviation = 'datetime-without-zone';
  } else {
    const z = s.charCodeAt(i);
    if ((z === 90 || z === 122) && i + 1 === s.length) {
      // UTC
    } else if ((z === 43 || z === 45) && (s.length - i === 6 || s.length - i === 5)) {
      const oh = digits(s, i + 1, 2);
      const om = s.length - i === 6 ? (s.charCodeAt(i + 3) === 58 ? digits(s, i + 4, 2) : -1) : digits(s, i + 3, 2);
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return invalid(text);
      offsetMinutes = (z === 43 ? 1 : -1) * (oh * 60 + om);
      if (offsetMinutes !== 0 && deviation === undefined) deviation = 'datetime-not-utc';
    } else {
      return invalid(text);
    }
  }
  if (day > daysInMonth(year, month) || (hour === 24 && (minute !== 0 || second !== 0))) return invalid(text);
  const ms = (daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60) * 1000;
  if (deviation === undefined && s.length === 20 && sep === 84 && s.charCodeAt(19) === 90 && second === digits(s, 17, 2) && hour < 24) {
    return { iso: s, ms }; // already canonical: no formatting, no allocation (the common case)
  }
  const iso = isoFromEpochMs(ms);
  if (iso === undefined) return invalid(text);
  return deviation === undefined ? { iso, ms } : { iso, ms, deviation };
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant); Date.UTC maps years 0–99 to 19xx. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}


/** Dotted-quad IPv4 in s[from, to): four decimal parts of 1–3 digits, each at most 255. */
function isIpv4(s: string, from: number, to: number): boolean {
  if (to - from < 7 || to - from > 15) return false;
  let dots = 0, value = 0, len = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (len === 0 || ++dots > 3) return false;
      value = 0;
      len = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || ++len > 3) return false;
      value = value * 10 + d;
      if (value > 255) return false;
    }
  }
  return dots === 3 && len > 0;
}

function hexGroups(s: string, from: number, to: number, allowV4: boolean): number {
  // Counts 16-bit groups in s[from,to), -1 when malformed; a trailing dotted quad counts 2.
  if (from === to) return 0;
  let groups = 0, len = 0, groupStart = from;
  for (let i = from; i <= to; i++) {
    const c = i === to ? 58 : s.charCodeAt(i);
    if (c === 58) {
      if (len === 0 || len > 4) return -1;
      groups++; len = 0; groupStart = i + 1;
    } else if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
      len++;
    } else if (c === 46 && allowV4) {
      return isIpv4(s, groupStart, to) ? groups + 2 : -1;
    } else {
      return -1;
    }
  }
  return groups;
}

/** True for IPv4 dotted-quad or RFC 4291 IPv6 text (with `::` and an embedded IPv4 tail). */
export function isIp(s: string): boolean {
  if (s.length === 0 || s.length > 45) return false;
  // IPv4 is the common case and fails fast on the first ':' or hex letter.
  if (isIpv4(s, 0, s.length)) return true;
  if (s.indexOf(':') < 0) return false;
  const gap = s.indexOf('::');
  if (gap < 0) return hexGroups(s, 0, s.length, true) === 8;
  if (s.indexOf('::', gap + 1) >= 0) return false;
  const left = hexGroups(s, 0, gap, false);
  const right = hexGroups(s, gap + 2, s.length, true);
  return left >= 0 && right >= 0 && left + right <= 7;
}

/** A label-dot-label host name shape (used to judge a report-id tail); no IDN U-labels. */
export function looksLikeDomain(s: string): boolean {
  if (s.length < 3 || s.length > 253 || s.indexOf('.') <= 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46;
    if (!ok) return false;
  }
  return s.charCodeAt(s.length - 1) !== 46;
}

/** @module test/settings/snapshot — the singletons evaluate as docs/spec/settings.md says: defaults, Stalwart's example, match forms, frequencies, fallbacks. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/settings/config.js';
import { buildSnapshot, machineSystemDefaults, validateSingleton, validateSettingsDocument, type RawSettings } from '../../src/settings/index.js';

/** A logger that keeps its lines, to assert what was logged. */
function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const machine = { domain: 'example.net', hostname: 'mx1.example.net' };
const snap = (raw: RawSettings, log = memoryLog().log) => buildSnapshot(raw, { log, nodeId: 'node-a', machine });

export const STALWART_EXAMPLE = {
  fromName: { else: "'TLS Report'" },
  fromAddress: { else: "'noreply-tls@example.org'" },
  subject: { else: "'TLS Aggregate Report'" },
  orgName: { else: "'The Foobar Organization'" },
  contactInfo: { else: "'jane@example.org'" },
  sendFrequency: { else: 'daily' },
  maxReportSize: { else: '26214400' },
  dkimSignDomain: { else: "'example.org'" },
};

describe('settings defaults', () => {
  it('gives the documented default for every field left out', () => {
    const s = snap({});
    assert.deepEqual(s.tlsReport({ rcptDomain: 'example.com' }), {
      fromName: 'Report Subsystem',
      fromAddress: 'noreply-tls@example.net',
      subject: 'TLS Aggregate Report',
      orgName: 'example.net',
      maxReportSize: 5242880,
      dkimSignDomain: 'example.net',
      submitter: 'mx1.example.net',
    });
    assert.equal(s.sendFrequency('example.com'), 'daily');
    assert.equal(s.outboundReportSubmitter('example.com'), 'mx1.example.net');
    assert.deepEqual(s.inbound(), { addresses: ['postmaster@*'], forwarding: true, maxSize: 26214400 });
    assert.deepEqual(s.system(), machine);
  });
  it('takes SystemSettings from the machine host name', () => {
    assert.deepEqual(machineSystemDefaults('mx1.example.org'), { domain: 'example.org', hostname: 'mx1.example.org' });
    assert.deepEqual(machineSystemDefaults('example.org'), { domain: 'example.org', hostname: 'example.org' });
    assert.deepEqual(machineSystemDefaults('buildbox'), { domain: 'buildbox', hostname: 'buildbox' });
    assert.deepEqual(machineSystemDefaults('bad host\r\n'), { domain: 'localhost', hostname: 'localhost' });
  });
  it('uses SystemSettings in system() for the defaults', () => {
    const s = snap({ SystemSettings: { domain: 'example.org', hostname: 'mx.example.org' } });
    const r = s.tlsReport({ rcptDomain: 'a.com' });
    assert.equal(r.fromAddress, 'noreply-tls@example.org');
    assert.equal(r.orgName, 'example.org');
    assert.equal(r.submitter, 'mx.example.org');
  });
});

describe("Stalwart's TlsReportSettings example", () => {
  it('validates unchanged and evaluates as written', () => {
    assert.deepEqual(validateSingleton('TlsReportSettings', STALWART_EXAMPLE), []);
    const s = snap({ TlsReportSettings: STALWART_EXAMPLE });
    assert.deepEqual(s.tlsReport({ rcptDomain: 'example.com' }), {
      fromName: 'TLS Report',
      fromAddress: 'noreply-tls@example.org',
      subject: 'TLS Aggregate Report',
      orgName: 'The Foobar Organization',
      contactInfo: 'jane@example.org',
      maxReportSize: 26214400,
      dkimSignDomain: 'example.org',
      submitter: 'mx1.example.net',
    });
    assert.equal(s.sendFrequency('example.com'), 'daily');
  });
  it('evaluates the RFC 8460 subject with submitter and report_id', () => {
    const subject = { else: "'Report Domain: ' + rcpt_domain + ' Submitter: ' + submitter + ' Report-ID: <' + report_id + '@' + submitter + '>'" };
    const s = snap({ TlsReportSettings: { subject }, ReportSettings: { outboundReportSubmitter: { else: "'mx.example.org'" } } });
    assert.equal(s.tlsReport({ rcptDomain: 'example.com', reportId: '2026-01-01T00:00:00Z_example.com' }).subject,
      'Report Domain: example.com Submitter: mx.example.org Report-ID: <2026-01-01T00:00:00Z_example.com@mx.example.org>');
    const p = snap({ TlsReportSettings: { subject: { else: "'TLS ' + period_start + '/' + period_end" } } });
    assert.equal(p.tlsReport({ rcptDomain: 'x', periodStartIso: '2026-01-01T00:00:00Z', periodEndIso: '2026-01-01T23:59:59Z' }).subject, 'TLS 2026-01-01T00:00:00Z/2026-01-01T23:59:59Z');
  });
  it('leaves contactInfo unset when it evaluates to false', () => {
    const s = snap({ TlsReportSettings: { contactInfo: { match: [{ if: "rcpt_domain == 'a.org'", then: "'ops@a.org'" }], else: 'false' } } });
    assert.equal(s.tlsReport({ rcptDomain: 'a.org' }).contactInfo, 'ops@a.org');
    assert.equal('contactInfo' in s.tlsReport({ rcptDomain: 'b.org' }), false);
  });
});

describe('match forms', () => {
  it('makes a field depend on the domain (list form)', () => {
    const s = snap({ TlsReportSettings: { sendFrequency: { match: [{ if: "ends_with(rcpt_domain, '.gov')", then: 'hourly' }], else: 'daily' } } });
    assert.equal(s.sendFrequency('agency.gov'), 'hourly');
    assert.equal(s.sendFrequency('example.com'), 'daily');
  });
  it('accepts the object encoding of the match list, in key order', () => {
    const value = { match: { 1: { if: "ends_with(rcpt_domain, '.org')", then: 'weekly' }, 0: { if: "rcpt_domain == 'special.org'", then: 'hourly' } }, else: 'never' };
    assert.deepEqual(validateSingleton('TlsReportSettings', { sendFrequency: value }), []);
    const s = snap({ TlsReportSettings: { sendFrequency: value } });
    assert.equal(s.sendFrequency('special.org'), 'hourly');
    assert.equal(s.sendFrequency('other.org'), 'weekly');
    assert.equal(s.sendFrequency('other.com'), 'never');
  });
  it('shows matches(...) captures in the then of the same entry', () => {
    const fromName = { match: [{ if: "matches('^([a-z0-9-]+)\\\\.example\\\\.(org|net)$', rcpt_domain)", then: "'Reports for ' + $1 + ' (' + $2 + ')'" }], else: "'Reports'" };
    assert.deepEqual(validateSingleton('TlsReportSettings', { fromName }), []);
    const s = snap({ TlsReportSettings: { fromName } });
    assert.equal(s.tlsReport({ rcptDomain: 'shop.example.org' }).fromName, 'Reports for shop (org)');
    assert.equal(s.tlsReport({ rcptDomain: 'other.com' }).fromName, 'Reports');
  });
});

describe('sendFrequency', () => {
  const cases: [string, string][] = [
    ['hourly', 'hourly'], ["'hourly'", 'hourly'], ['daily', 'daily'], ['"daily"', 'daily'], ['weekly', 'weekly'], ["'weekly'", 'weekly'],
    ['never', 'never'], ["'never'", 'never'], ['disable', 'never'], ["'disable'", 'never'],
  ];
  for (const [expr, want] of cases) {
    it(`${expr} → ${want}`, () => {
      assert.deepEqual(validateSingleton('TlsReportSettings', { sendFrequency: { else: expr } }), []);
      assert.equal(snap({ TlsReportSettings: { sendFrequency: { else: expr } } }).sendFrequency('x.org'), want);
    });
  }
  it('quoted and unquoted are the same value in a match', () => {
    const a = snap({ TlsReportSettings: { sendFrequency: { match: [{ if: '1', then: 'weekly' }], else: 'daily' } } });
    const b = snap({ TlsReportSettings: { sendFrequency: { match: [{ if: '1', then: "'weekly'" }], else: "'daily'" } } });
    assert.equal(a.sendFrequency('x'), b.sendFrequency('x'));
  });
});

describe('fallbacks', () => {
  it('falls back to the default and logs once per field when conversion fails', () => {
    const m = memoryLog();
    const s = snap({ TlsReportSettings: { sendFrequency: { match: [{ if: "rcpt_domain == 'odd.org'", then: "'monthly'" }], else: 'weekly' } } }, m.log);
    assert.equal(s.sendFrequency('odd.org'), 'daily');
    assert.equal(s.sendFrequency('odd.org'), 'daily');
    assert.equal(s.sendFrequency('fine.org'), 'weekly');
    const warnings = m.lines.filter((l) => l.field === 'TlsReportSettings.sendFrequency');
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0].reason), /monthly.*not a frequency/);
  });
  it('refuses CR, LF and NUL in values that reach mail headers', () => {
    const m = memoryLog();
    const s = snap({
      TlsReportSettings: {
        subject: { else: "'Report for ' + rcpt_domain" },
        fromName: { else: "'Evil\\r\\nBcc: victim@example.org'" },
        fromAddress: { else: "'a@b.org' + rcpt_domain" },
      },
      ReportSettings: { outboundReportSubmitter: { else: 'rcpt_domain' } },
    }, m.log);
    const r = s.tlsReport({ rcptDomain: 'x.org\r\nBcc: victim@example.org' });
    assert.equal(r.subject, 'TLS Aggregate Report');
    assert.equal(r.fromName, 'Report Subsystem');
    assert.equal(r.fromAddress, 'noreply-tls@example.net');
    assert.equal(r.submitter, 'mx1.example.net');
    for (const v of Object.values(r)) assert.doesNotMatch(String(v), /[\r\n\0]/);
    assert.equal(s.tlsReport({ rcptDomain: 'x\0.org' }).subject, 'TLS Aggregate Report');
    assert.ok(m.lines.some((l) => l.field === 'TlsReportSettings.fromName'));
  });
  it('refuses a size that is not a positive integer', () => {
    const s = snap({ TlsReportSettings: { maxReportSize: { else: "if_then(rcpt_domain == 'a', 'lots', '1000')" } } });
    assert.equal(s.tlsReport({ rcptDomain: 'a' }).maxReportSize, 5242880);
    assert.equal(s.tlsReport({ rcptDomain: 'b' }).maxReportSize, 1000);
  });
  it('never throws on a value that does not compile (stored by hand)', () => {
    const m = memoryLog();
    const s = snap({ TlsReportSettings: { subject: { else: "'unterminated" }, sendFrequency: 'monthly' } }, m.log);
    assert.equal(s.tlsReport({ rcptDomain: 'x' }).subject, 'TLS Aggregate Report');
    assert.equal(s.sendFrequency('x'), 'daily');
    assert.ok(m.lines.some((l) => l.field === 'TlsReportSettings.subject'));
  });
});

describe('validation', () => {
  it('refuses an unknown frequency with the field', () => {
    const errors = validateSettingsDocument({ TlsReportSettings: { sendFrequency: { else: 'monthly' } } });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].field, 'TlsReportSettings.sendFrequency.else');
    assert.equal(errors[0].position, 0);
    assert.match(errors[0].message, /monthly is not a value of sendFrequency \(position 0\); expected hourly, daily, weekly, never/);
    assert.match(validateSingleton('TlsReportSettings', { sendFrequency: { else: 'dayly' } })[0].message, /dayly is not a value of sendFrequency — did you mean daily\?/);
    const quoted = validateSingleton('TlsReportSettings', { sendFrequency: { else: "'monthly'" } });
    assert.equal(quoted[0].field, 'TlsReportSettings.sendFrequency.else');
    assert.match(quoted[0].message, /not a frequency/);
  });
  it('refuses a match without else, empty if/then, and broken expressions with their position', () => {
    assert.deepEqual(validateSingleton('TlsReportSettings', { subject: { match: [{ if: '1', then: "'x'" }] } }).map((e) => e.field), ['TlsReportSettings.subject.else']);
    const empty = validateSingleton('TlsReportSettings', { subject: { match: [{ if: '', then: "'x'" }], else: "'y'" } });
    assert.equal(empty[0].field, 'TlsReportSettings.subject.match[0].if');
    assert.match(empty[0].message, /empty expression/);
    const broken = validateSingleton('ReportSettings', { outboundReportSubmitter: { else: 'system(' } });
    assert.deepEqual(broken, [{ field: 'ReportSettings.outboundReportSubmitter.else', position: 7, message: 'expected a value at position 7, found end of expression' }]);
    const paren = validateSingleton('TlsReportSettings', { subject: { match: [{ if: "(rcpt_domain == 'a'", then: "'x'" }], else: "'y'" } });
    assert.equal(paren[0].field, 'TlsReportSettings.subject.match[0].if');
    assert.equal(paren[0].position, 19);
    assert.match(paren[0].message, /expected '\)' at position 19/);
  });
  it('refuses variables outside their fields, unknown fields and header-unsafe constants', () => {
    assert.match(validateSingleton('TlsReportSettings', { orgName: { else: 'report_id' } })[0].message, /variable report_id is not allowed here/);
    assert.match(validateSingleton('TlsReportSettings', { sendFrequency: { else: 'submitter' } })[0].message, /variable submitter is not allowed here/);
    assert.deepEqual(validateSingleton('TlsReportSettings', { subject: { else: "report_id + period_start + sender + mx" } }), []);
    assert.equal(validateSingleton('TlsReportSettings', { fromAdress: { else: "'x@y.org'" } })[0].field, 'TlsReportSettings.fromAdress');
    assert.match(validateSingleton('TlsReportSettings', { fromName: { else: "'a\\nb'" } })[0].message, /control character/);
    assert.match(validateSingleton('SystemSettings', { domain: 'not a domain' })[0].message, /not a domain name/);
    assert.deepEqual(validateSingleton('ReportSettings', { inboundReportAddresses: ['postmaster@*', '*@reports.example.org'], inboundReportForwarding: false, inboundReportMaxSize: 1000 }), []);
    assert.match(validateSingleton('ReportSettings', { inboundReportAddresses: ['no-at-sign'] })[0].message, /not local@domain/);
  });
  it('reports service-section errors of a config file too', () => {
    const errors = validateSettingsDocument({ http: { listen: 'nonsense' }, TlsReportSettings: {} });
    assert.equal(errors[0].field, 'http.listen');
  });
  it('names a misspelt section instead of ignoring it, and leaves $/_ comment keys alone', () => {
    const errors = validateSettingsDocument({ colector: { socket: '/run/x.sock' }, _comment: 'mine', $schema: 'x', retention: { inboundDays: 30 } });
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0].field, 'colector');
    assert.match(errors[0].message, /unknown section \(did you mean "collector"\?\)/);
    const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-config-'));
    try {
      const file = path.join(dir, 'tlsrpt.json');
      writeFileSync(file, JSON.stringify({ http: { listen: '127.0.0.1:1' }, Delivery: { spreadSeconds: 0 } }));
      assert.throws(() => loadConfig(file, {}), /Delivery: unknown section \(did you mean "delivery"\?\)/);
      writeFileSync(file, JSON.stringify({ http: { listen: '127.0.0.1:1' }, _note: 'kept' }));
      assert.equal(loadConfig(file, {}).http.listen, '127.0.0.1:1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

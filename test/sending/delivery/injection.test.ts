/**
 * @module test/sending/delivery/injection — header injection through every expression-valued
 * field fails safely: whatever an expression returns (CR, LF, NUL, a second address), no header
 * is added to the report mail, the envelope keeps its one recipient, and the report still goes
 * out with the default value in place of the refused one. Once through the real settings
 * service with hostile expressions, once with a settings source that hands raw hostile values
 * straight to the delivery boundary.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { simpleParser } from 'mailparser';
import { openStore, type Store } from '../../../src/store/index.js';
import { openSettings } from '../../../src/settings/index.js';
import { loadConfig } from '../../../src/settings/config.js';
import { extractReports } from '../../../src/receiving/extract/index.js';
import { startHarness, stsOutcome, D0, DAY, type Harness } from './harness.js';
import type { ReportSettingsSource } from '../../../src/sending/report/settings-view.js';
import { silentLog } from '../../../src/common/log.js';

const HOSTILE = ['x\r\nBcc: victim@example.org', 'x\nX-Injected: yes', 'x\rX-Injected: yes', 'x\u0000X-Injected: yes', 'x\r\n\r\nbody'];
const FIELDS = ['fromName', 'fromAddress', 'subject', 'orgName', 'contactInfo', 'dkimSignDomain', 'submitter'] as const;

async function sendOne(h: Harness) {
  h.aggregator.add(stsOutcome('example.net', true, 'v=TLSRPTv1; rua=mailto:tls-reports@example.net'));
  await h.aggregator.flush();
  h.now.t = D0 + DAY;
  const r = await h.scheduler.tick();
  h.now.t = D0 + 10 * 3600; // back, for the next event
  return r;
}

async function assertClean(h: Harness, raw: Buffer) {
  const text = raw.toString('latin1');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  assert.ok(!/^(Bcc|X-Injected):/im.test(head), 'no injected header');
  assert.ok(!/[^\r]\n|\r(?!\n)|\u0000/.test(head), 'only CRLF line ends, no NUL in the header');
  for (const name of ['From', 'To', 'Subject', 'TLS-Report-Submitter', 'TLS-Report-Domain', 'Message-ID']) {
    assert.equal(head.split(/\r\n(?![ \t])/).filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).length, 1, `exactly one ${name}`);
  }
  const got = h.sink.received.at(-1)!;
  assert.deepEqual(got.to, ['tls-reports@example.net'], 'the envelope has the one rua recipient');
  assert.ok(!/[\r\n\u0000]/.test(got.from));
  const parsed = await simpleParser(raw);
  assert.equal(parsed.to && 'value' in parsed.to ? parsed.to.value.length : 0, 1);
  const { payloads } = await extractReports(raw);
  const doc = JSON.parse(Buffer.from(payloads[0].bytes).toString());
  assert.ok(!/[\r\n\u0000]/.test(doc['organization-name']) && !/[\r\n\u0000]/.test(doc['contact-info']));
}

describe('hostile values handed to the delivery boundary', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-inj-'));
    store = await openStore({ sqlite: path.join(dir, 'db.sqlite') });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const field of FIELDS) {
    it(`${field}: refused, logged, replaced by the default; the report still goes out`, async () => {
      const h = await startHarness(store);
      try {
        for (const bad of HOSTILE) {
          const value = field === 'fromAddress' || field === 'contactInfo' ? `${bad}@example.com` : bad;
          Object.assign(h.settings.values, { [field]: value });
          const before = h.sink.received.length;
          await sendOne(h);
          assert.equal(h.sink.received.length, before + 1, `${field} = ${JSON.stringify(value)}: still sent`);
          await assertClean(h, h.sink.received.at(-1)!.raw);
          const refused = h.log.find('report setting refused, using the default');
          assert.ok(refused.some((l) => String(l.field).startsWith(field === 'submitter' ? 'outboundReportSubmitter' : field)), `${field} refusal logged`);
        }
      } finally {
        await h.close();
        await store.db.deleteFrom('outbound_target').execute();
        await store.db.deleteFrom('outbound_report').execute();
      }
    });
  }

  it('a hostile rua from DNS / the MTA (%0D%0A in a mailto) never reaches RCPT TO or To', async () => {
    const h = await startHarness(store);
    try {
      h.aggregator.add(stsOutcome('evil.example', true, 'v=TLSRPTv1; rua=mailto:a%0D%0ABcc:victim@example.org@evil.example,mailto:ok@evil.example'));
      await h.aggregator.flush();
      h.now.t = D0 + DAY;
      await h.scheduler.tick();
      assert.deepEqual(h.sink.received.map((m) => m.to), [['ok@evil.example']]);
      assert.ok(!/victim/.test(h.sink.received[0].raw.toString()));
    } finally {
      await h.close();
    }
  });
});

describe('hostile expressions through the real settings service', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-inj2-'));
    store = await openStore({ sqlite: path.join(dir, 'db.sqlite') });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Each value depends on a variable, so validation at load cannot see the CR/LF: it only
  // appears when the expression runs for a domain.
  const expr: Record<string, string> = {
    fromName: "'Evil ' + rcpt_domain + '\\r\\nBcc: victim@example.org'",
    fromAddress: "'a@' + rcpt_domain + '\\r\\nBcc: victim@example.org'",
    subject: "'TLS report for ' + rcpt_domain + '\\nX-Injected: yes'",
    orgName: "'Org ' + rcpt_domain + '\\r\\nX-Injected: yes'",
    contactInfo: "'c@' + rcpt_domain + '\\rX-Injected: yes'",
    dkimSignDomain: "rcpt_domain + '\\r\\nX-Injected: yes'",
  };
  for (const [field, source] of [...Object.entries(expr), ['outboundReportSubmitter', "'mx.' + rcpt_domain + '\\r\\nX-Injected: yes'"]]) {
    it(`${field} = ${source}: no header injected, the report is sent`, async () => {
      const section = field === 'outboundReportSubmitter' ? 'ReportSettings' : 'TlsReportSettings';
      const config = loadConfig(undefined, {});
      Object.assign(config, {
        [section]: { [field]: { else: source } },
        SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
      });
      await store.db.deleteFrom('settings' as never).execute().catch(() => {});
      const settings = await openSettings(store, config, silentLog);
      const h = await startHarness(store, { settingsSource: settings as ReportSettingsSource });
      try {
        await sendOne(h);
        assert.equal(h.sink.received.length, 1);
        await assertClean(h, h.sink.received[0].raw);
        const json = JSON.parse(gunzipSync((await store.db.selectFrom('outbound_report').select('gz').orderBy('id', 'desc').executeTakeFirstOrThrow()).gz!).toString());
        assert.ok(!/[\r\n]/.test(JSON.stringify(json['organization-name']) + json['contact-info']));
      } finally {
        settings.close();
        await h.close();
        await store.db.deleteFrom('outbound_target').execute();
        await store.db.deleteFrom('outbound_report').execute();
      }
    });
  }
});

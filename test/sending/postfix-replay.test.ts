/**
 * @module test/sending/postfix-replay — the 322 datagrams a real Postfix 3.12 sent (fixture from
 * issue 11, test/fixtures/datagrams/README.md says what each destination did) replayed through
 * the decoder, the collector and the scheduler: exactly one report per report domain (DANE
 * included, under the recipient domain with the MX host as policy-domain), the counts the README
 * lists, the RFC 8460 §5.3 subject, submitter and file name from the contact-info domain, a clean
 * receiving-mx-helo, and a DKIM signature a receiver verifies. On SQLite and PostgreSQL.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { simpleParser } from 'mailparser';
import { forEachStore } from '../support/stores.js';
import { decodeDpv1 } from '../../src/sending/collect/sources/dpv1.js';
import { startHarness, fileSettings } from './delivery/harness.js';
import { assertDkimPass } from './delivery/dkim-verify.js';

const FIXTURE = new URL('../fixtures/datagrams/postfix-3.12.jsonl', import.meta.url);
/** Each line is a JSON string holding one datagram's exact text. */
export const POSTFIX_DATAGRAMS: Buffer[] = readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean).map((l) => Buffer.from(JSON.parse(l) as string, 'utf8'));

/** report domain → [successful, failed] sessions, from the fixture's README. */
const EXPECTED: Record<string, [number, number]> = {
  'example.net': [231, 0], 'example.org': [0, 40], 'example.edu': [0, 20], 'example.info': [0, 18],
  'example.com': [3, 0], 'dane.example': [4, 0], 'dane-bad.example': [0, 6],
};

forEachStore('postfix 3.12 datagrams replayed', (open) => {
  it('give exactly one report per report domain, RFC names, clean helo, DKIM that verifies', async () => {
    const store = await open();
    // The acceptance check's settings: contact-info set, subject and submitter left to the RFC.
    const settings = fileSettings({
      SystemSettings: { domain: 'example.com', hostname: 'mta.example.com' },
      TlsReportSettings: { orgName: { else: "'Bar Org'" }, contactInfo: { else: "'tls@example.com'" } },
    });
    const h = await startHarness(store, { settingsSource: settings });
    try {
      assert.equal(POSTFIX_DATAGRAMS.length, 322);
      for (const dg of POSTFIX_DATAGRAMS) {
        const r = decodeDpv1(dg);
        assert.ok(r.ok, `fixture datagram rejected: ${r.ok ? '' : r.detail}`);
        assert.equal(h.aggregator.add(r.outcome), undefined);
      }
      await h.aggregator.flush();
      const r = await h.scheduler.tick({ force: true });
      assert.equal(r.built.filter((b) => b.state === 'pending').length, 7, JSON.stringify(r.built));
      assert.equal(h.sink.received.length, 7);

      const got: Record<string, [number, number]> = {};
      for (const mail of h.sink.received) {
        await assertDkimPass(mail.raw, h.dkim);
        const m = await simpleParser(mail.raw);
        const domain = String(m.headers.get('tls-report-domain'));
        assert.equal(got[domain], undefined, `two reports for ${domain}`);
        assert.deepEqual(mail.to, [`tlsrpt@${domain}`]);
        assert.equal(m.headers.get('tls-report-submitter'), 'example.com', 'RFC 8460 §5.1: the contact-info domain');
        const subject = /^Report Domain: (\S+) Submitter: (\S+) Report-ID: <(\S+@\S+)>$/.exec(m.subject ?? '');
        assert.ok(subject, `subject not in RFC 8460 §5.3 form: ${m.subject}`);
        assert.equal(subject[1], domain);
        assert.equal(subject[2], 'example.com');
        assert.equal(m.attachments.length, 1);
        const att = m.attachments[0];
        assert.equal(att.contentType, 'application/tlsrpt+gzip');
        assert.ok(att.filename?.startsWith(`example.com!${domain}!`), `file name ${att.filename}`);
        const doc = JSON.parse(gunzipSync(att.content).toString());
        assert.equal(subject[3].split('@')[0], doc['report-id'], 'the subject names the report-id of the attachment');
        assert.equal(doc['contact-info'], 'tls@example.com');
        let ok = 0;
        let bad = 0;
        for (const p of doc.policies) {
          ok += p.summary['total-successful-session-count'];
          bad += p.summary['total-failure-session-count'];
          for (const fd of p['failure-details'] ?? []) {
            if (fd['receiving-mx-helo'] !== undefined) assert.match(fd['receiving-mx-helo'], /^[a-z0-9.-]+$/, 'the greeting name, not the EHLO reply');
          }
          if (domain.startsWith('dane')) {
            assert.equal(p.policy['policy-type'], 'tlsa');
            assert.equal(p.policy['policy-domain'], `mx1.${domain}`, 'the policy keeps its own policy-domain (the MX host)');
          }
        }
        got[domain] = [ok, bad];
      }
      assert.deepEqual(got, EXPECTED);
    } finally {
      await h.close();
    }
  });
});

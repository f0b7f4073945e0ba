/**
 * @module test/sending/postfix-quirks — what a real Postfix sends and how it is reported (issue 11):
 * the EHLO reply in `h` reduced to the greeting name (one failure row whatever the capability
 * list), empty strings counted as absent, the socket-group start-up error that names path, group
 * and fix, and the realtime warning that names the unit-file line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { greetingName } from '../../src/sending/collect/greeting.js';
import { decodeDpv1Text } from '../../src/sending/collect/sources/dpv1.js';
import { explainBindError, REALTIME_HINT } from '../../src/sending/collect/sources/datagram.js';
import { forEachStore } from '../support/stores.js';
import { Aggregator } from '../../src/sending/collect/aggregate.js';
import { listOpenWindows } from '../../src/analysis/outbound-windows.js';

const datagram = (h: string) => `{"dpv":"1","d":"example.org","policies":[{"policy-type":2,"policy-domain":"example.org","failure-details":[{"c":202,"n":"mx1.example.org","h":${JSON.stringify(h)},"r":"192.0.2.7"}],"t":1,"f":1}]}`;

describe('receiving-mx-helo', () => {
  it('is the greeting name of an EHLO reply, or the name itself', () => {
    assert.equal(greetingName('250-mx1.example.org\r\n250-SIZE 33554432\r\n250-PIPELINING\r\n250 HELP'), 'mx1.example.org');
    assert.equal(greetingName('250 mx1.example.org ESMTP Postfix'), 'mx1.example.org');
    assert.equal(greetingName('mx1.example.org\r\n250-PIPELINING'), 'mx1.example.org');
    assert.equal(greetingName('mx1.example.org'), 'mx1.example.org');
    assert.equal(greetingName('250 '), undefined);
    assert.equal(greetingName(''), undefined);
  });
});

describe('empty strings from the MTA', () => {
  it('count as absent in every optional field (RFC 8460 §4.4 gives "" no meaning)', () => {
    const r = decodeDpv1Text('{"dpv":"1","d":"x.test","pr":"","policies":[{"policy-type":9,"policy-domain":"","failure-details":[{"c":201,"s":"","n":"","h":"","r":"","a":"","f":""}],"t":1,"f":1}]}');
    assert.ok(r.ok);
    assert.deepEqual(r.outcome.policies[0].failureDetails, [{ resultType: 'starttls-not-supported' }]);
    assert.equal(r.outcome.policies[0].policy.policyDomain, 'x.test');
    assert.equal(r.outcome.tlsrptRecord, undefined);
  });
});

forEachStore('EHLO replies that differ in capabilities', (open) => {
  it('count as one failure row carrying the greeting name', async () => {
    const store = await open();
    const agg = new Aggregator({ store, sendFrequency: () => 'daily', clock: () => Date.UTC(2026, 10, 27, 12) });
    for (const h of ['250-mx1.example.org\r\n250-SIZE 33554432\r\n250 HELP', '250-mx1.example.org\r\n250-PIPELINING\r\n250 CHUNKING', 'mx1.example.org']) {
      const r = decodeDpv1Text(datagram(h));
      assert.ok(r.ok);
      assert.equal(agg.add(r.outcome), undefined);
    }
    await agg.flush();
    const [w] = await listOpenWindows(store);
    assert.equal(w.policies[0].failureDetails.length, 1);
    assert.equal(w.policies[0].failureDetails[0].receivingMxHelo, 'mx1.example.org');
    assert.equal(w.policies[0].failureDetails[0].failedSessionCount, 3);
  });
});

describe('collector start-up messages', () => {
  it('a socket group the service user is not in: path, group and fix, not "chown EPERM"', () => {
    const raw = Object.assign(new Error('chown EPERM: Operation not permitted'), { code: 'EPERM', syscall: 'chown' });
    const e = explainBindError(raw, { path: '/var/spool/postfix/tlsrpt/collector.sock', group: 'postfix' });
    assert.match(e.message, /\/var\/spool\/postfix\/tlsrpt\/collector\.sock/);
    assert.match(e.message, /group postfix/);
    assert.match(e.message, /usermod -aG postfix|SupplementaryGroups=postfix/);
    const other = Object.assign(new Error('bind EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'bind' });
    assert.equal(explainBindError(other, { path: '/x' }), other);
  });
  it('no realtime receive thread: the warning names the unit-file line', () => {
    assert.match(REALTIME_HINT, /AmbientCapabilities=CAP_SYS_NICE/);
    assert.match(REALTIME_HINT, /\[Service\]/);
  });
});

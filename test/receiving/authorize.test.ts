/** Unit tests of the pure receiving rules: policy-domain authorisation, the rate limiter, recipient patterns. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseReport } from '../../src/rfc8460/parse.js';
import { authorizeReport } from '../../src/receiving/pipeline/authorize.js';
import { createRateLimiter } from '../../src/common/rate-limit.js';
import { compileAddressPatterns } from '../../src/receiving/sources/addresses.js';
import { makeReport } from './support/reports.js';

const report = (o: Parameters<typeof makeReport>[0]) => parseReport(makeReport(o)).report;

describe('authorizeReport', () => {
  it('accepts everything when no policy domains are configured', () => {
    assert.deepEqual(authorizeReport(report({ submitter: 's.example', policyDomain: 'anything.example' }), {}), { ok: true, matched: [] });
  });
  it('accepts reports about a configured domain (case and trailing dot ignored), refuses others with the domains named', () => {
    const opts = { policyDomains: ['Example.ORG.'] };
    assert.equal(authorizeReport(report({ submitter: 's.example', policyDomain: 'example.org' }), opts).ok, true);
    const no = authorizeReport(report({ submitter: 's.example', policyDomain: 'example.net' }), opts);
    assert.equal(no.ok, false);
    assert.match((no as { reason: string }).reason, /example\.net/);
    assert.equal(authorizeReport(report({ submitter: 's.example', policyDomain: 'sub.example.org' }), opts).ok, false);
    assert.equal(authorizeReport(report({ submitter: 's.example', policyDomain: 'sub.example.org' }), { policyDomains: ['*.example.org'] }).ok, true);
  });
  it('accepts DANE reports about the MX hosts of a configured domain, or configured MX hosts', () => {
    const dane = report({ submitter: 's.example', policyDomain: 'example.org', policyType: 'tlsa', mxHost: ['mx1.example.org'] });
    assert.equal(dane.policies[0].policy.policyDomain, 'mx1.example.org');
    assert.equal(authorizeReport(dane, { policyDomains: ['example.org'] }).ok, true);
    const hosted = report({ submitter: 's.example', policyDomain: 'example.org', policyType: 'tlsa', mxHost: ['mx.hoster.example'] });
    assert.equal(authorizeReport(hosted, { policyDomains: ['example.org'] }).ok, false);
    assert.equal(authorizeReport(hosted, { policyDomains: ['example.org'], mxHosts: ['*.hoster.example'] }).ok, true);
    // An STS report about someone else's domain does not get in through an MX name.
    const sts = report({ submitter: 's.example', policyDomain: 'other.example', mxHost: ['mx.example.org'] });
    assert.equal(authorizeReport(sts, { policyDomains: ['example.org'] }).ok, false);
  });
});

describe('createRateLimiter', () => {
  it('allows a burst, then one request per 60/rate seconds, per client', () => {
    let t = 0;
    const l = createRateLimiter({ ratePerMinute: 60, burst: 3, now: () => t });
    assert.deepEqual([1, 2, 3, 4].map(() => l.take('a').allowed), [true, true, true, false]);
    assert.equal(l.take('b').allowed, true, 'another client has its own bucket');
    const denied = l.take('a');
    assert.equal(denied.allowed, false);
    assert.equal(denied.retryAfterSeconds, 1);
    t = 1000;
    assert.equal(l.take('a').allowed, true);
    assert.equal(l.take('a').allowed, false);
    t = 100_000;
    assert.deepEqual([1, 2, 3, 4].map(() => l.take('a').allowed), [true, true, true, false], 'refills up to the burst only');
  });
  it('remembers a bounded number of clients, forgetting the least recently seen', () => {
    const l = createRateLimiter({ ratePerMinute: 1, burst: 1, maxClients: 100, now: () => 0 });
    for (let i = 0; i < 1000; i++) l.take(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(l.size(), 100);
  });
});

describe('compileAddressPatterns', () => {
  it('matches postmaster@*, *@domain and exact addresses, case-insensitively', () => {
    const m = compileAddressPatterns(['postmaster@*', '*@reports.example.org', 'tlsrpt@example.com']);
    assert.equal(m('Postmaster@example.com'), true);
    assert.equal(m('anything@reports.example.org'), true);
    assert.equal(m('<TLSRPT@example.com>'), true);
    assert.equal(m('tlsrpt@example.com.evil'), false);
    assert.equal(m('someone@example.org'), false);
    assert.equal(m('x@sub.reports.example.org'), false);
  });
  it('treats regex characters in patterns literally', () => {
    const m = compileAddressPatterns(['a+b@ex.ample']);
    assert.equal(m('a+b@ex.ample'), true);
    assert.equal(m('aab@exxample'), false);
  });
});

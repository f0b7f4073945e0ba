/** @module test/analysis/org-domain — organisational domains and the reporter identity of a report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainOfContactInfo, organizationalDomain, reporterOf } from '../../src/identity/org-domain.js';

test('organisational domain from the public suffix list', () => {
  assert.equal(organizationalDomain('corp.mail.ru'), 'mail.ru');
  assert.equal(organizationalDomain('MX1.Example.CO.UK.'), 'example.co.uk');
  assert.equal(organizationalDomain('a.b.example.com.au'), 'example.com.au');
  assert.equal(organizationalDomain('foo.github.io'), 'foo.github.io');
  assert.equal(organizationalDomain('localhost'), 'localhost');
});


test('contact-info: address, mailto, URL, bare domain, junk', () => {
  assert.equal(domainOfContactInfo('smtp-tls-reporting@google.com'), 'google.com');
  assert.equal(domainOfContactInfo('mailto:tls@Corp.Mail.RU'), 'corp.mail.ru');
  assert.equal(domainOfContactInfo('Reports <tls@example.net>'), 'example.net');
  assert.equal(domainOfContactInfo('https://reports.example.org/tlsrpt'), 'reports.example.org');
  assert.equal(domainOfContactInfo('example.org'), 'example.org');
  assert.equal(domainOfContactInfo('call us'), undefined);
  assert.equal(domainOfContactInfo(undefined), undefined);
});

test('reporter: channel-independent identity from the report JSON', () => {
  assert.equal(reporterOf({ contactInfo: 'tls_support@corp.mail.ru', organizationName: 'Mail.ru' }), 'mail.ru');
  assert.equal(reporterOf({ contactInfo: 'call us', organizationName: 'Mail.ru' }), 'mail.ru');
  assert.equal(reporterOf({ contactInfo: undefined, organizationName: '' }), '(unknown)');
});

/** @module test/sending/delivery/ssrf — which addresses an https rua may reach. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargetHost, forbiddenReason, TargetRefusedError } from '../../../src/sending/deliver/ssrf.js';

describe('forbiddenReason', () => {
  const forbidden = [
    '127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '0.0.0.0', '100.64.0.1', '100.127.255.254', '224.0.0.1', '239.1.2.3', '255.255.255.255', '240.0.0.1',
    '::', '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'fe80::1%eth0', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.1.2.3', '::ffff:192.168.0.1', '64:ff9b::a00:1', '::127.0.0.1',
  ];
  for (const ip of forbidden) {
    it(`refuses ${ip}`, () => assert.ok(forbiddenReason(ip), `${ip} should be refused`));
  }
  const allowed = ['8.8.8.8', '192.0.2.1', '172.32.0.1', '100.128.0.1', '2001:db8::1', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '1.1.1.1'];
  for (const ip of allowed) {
    it(`allows ${ip}`, () => assert.equal(forbiddenReason(ip), undefined));
  }
  it('is not fooled by a host name', () => assert.equal(forbiddenReason('example.org'), 'not an IP address'));
});

describe('checkTargetHost', () => {
  const lookup = async (host: string) => ({
    'loopback.test': ['127.0.0.1'],
    'mixed.test': ['93.184.216.34', '10.0.0.5'],
    'public.test': ['2606:2800:220:1:248:1893:25c8:1946', '93.184.216.34'],
  } as Record<string, string[]>)[host] ?? [];

  it('refuses IP literals in forbidden ranges, brackets or not', async () => {
    for (const h of ['127.0.0.1', '[::1]', '::1', '10.0.0.1']) {
      await assert.rejects(checkTargetHost(h, { lookup, allowPrivateTargets: false }), TargetRefusedError);
    }
  });
  it('refuses a name that resolves to loopback, and one with any private address', async () => {
    await assert.rejects(checkTargetHost('loopback.test', { lookup, allowPrivateTargets: false }), /loopback/);
    await assert.rejects(checkTargetHost('mixed.test', { lookup, allowPrivateTargets: false }), /10\.0\.0\.5/);
  });
  it('refuses a name without addresses', async () => {
    await assert.rejects(checkTargetHost('nothing.test', { lookup, allowPrivateTargets: false }), /no A or AAAA/);
  });
  it('keeps public addresses, IPv4 first, and the name for SNI', async () => {
    const t = await checkTargetHost('public.test', { lookup, allowPrivateTargets: false });
    assert.deepEqual(t, { host: 'public.test', addresses: ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'] });
  });
  it('allows private targets only when told to', async () => {
    const t = await checkTargetHost('loopback.test', { lookup, allowPrivateTargets: true });
    assert.deepEqual(t.addresses, ['127.0.0.1']);
  });
});

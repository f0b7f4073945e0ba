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
  const allowed = ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2a00:1450:4001:80b::200e', '2606:4700::1111', '::ffff:8.8.8.8', '1.1.1.1', '64:ff9b::808:808', '223.255.255.255', '2c0f::1'];
  for (const ip of allowed) {
    it(`allows ${ip}`, () => assert.equal(forbiddenReason(ip), undefined));
  }
  it('is not fooled by a host name', () => assert.equal(forbiddenReason('example.org'), 'not an IP address'));
});

// One address inside every range of the IANA IPv4 / IPv6 Special-Purpose Address Registries
// (plus multicast, reserved and site-local), written out here and not read from the guard's
// table: dropping a range from the table fails its test.
describe('forbiddenReason: one test per special-purpose range', () => {
  const ranges: [string, string, RegExp][] = [
    ['0.0.0.0/8', '0.1.2.3', /this network/], ['10.0.0.0/8', '10.200.0.1', /private/], ['100.64.0.0/10', '100.100.0.1', /shared/],
    ['127.0.0.0/8', '127.0.0.53', /loopback/], ['169.254.0.0/16', '169.254.169.254', /link-local/], ['172.16.0.0/12', '172.20.0.1', /private/],
    ['192.0.0.0/24', '192.0.0.170', /IETF/], ['192.0.2.0/24', '192.0.2.1', /documentation/], ['192.31.196.0/24', '192.31.196.1', /AS112/],
    ['192.52.193.0/24', '192.52.193.1', /AMT/], ['192.88.99.0/24', '192.88.99.1', /6to4/], ['192.168.0.0/16', '192.168.1.1', /private/],
    ['192.175.48.0/24', '192.175.48.1', /AS112/], ['198.18.0.0/15', '198.19.255.1', /benchmarking/], ['198.51.100.0/24', '198.51.100.7', /documentation/],
    ['203.0.113.0/24', '203.0.113.9', /documentation/], ['224.0.0.0/4', '239.1.2.3', /multicast/], ['240.0.0.0/4', '250.0.0.1', /reserved/],
    ['255.255.255.255/32', '255.255.255.255', /broadcast/],
    ['::/128', '::', /unspecified/], ['::1/128', '::1', /loopback/], ['::ffff:0:0/96', '::ffff:10.1.2.3', /private.*IPv4-mapped/],
    ['::ffff:0:0:0/96', '::ffff:0:7f00:1', /loopback.*IPv4-translated/], ['::/96', '::127.0.0.1', /loopback.*IPv4-compatible/],
    ['64:ff9b::/96', '64:ff9b::a9fe:a9fe', /link-local.*translation/], ['64:ff9b:1::/48', '64:ff9b:1::808:808', /local-use/],
    ['100::/64', '100::1', /discard/], ['100:0:0:1::/64', '100:0:0:1::1', /dummy/], ['2001::/23', '2001:4:112::1', /IETF/],
    ['2001::/32', '2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/], ['2001:2::/48', '2001:2::1', /benchmarking/],
    ['2001:db8::/32', '2001:db8::1', /documentation/], ['2002::/16', '2002:7f00:1::1', /6to4/], ['2620:4f:8000::/48', '2620:4f:8000::1', /AS112/],
    ['3fff::/20', '3fff:fff::1', /documentation/], ['5f00::/16', '5f00::1', /segment routing/], ['fc00::/7', 'fd12:3456::1', /unique local/],
    ['fe80::/10', 'fe80::1%eth0', /link-local/], ['fec0::/10', 'fec0::1', /site-local/], ['ff00::/8', 'ff02::1', /multicast/],
  ];
  for (const [range, ip, why] of ranges) {
    it(`${range}: refuses ${ip}`, () => assert.match(forbiddenReason(ip) ?? 'allowed', why));
  }
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

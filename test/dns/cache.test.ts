/** @module test/dns/cache — TtlCache with an injected clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TtlCache } from '../../src/dns/index.js';

describe('TtlCache', () => {
  it('keeps a value for exactly its TTL', () => {
    let now = 1000;
    const c = new TtlCache<string>({ clock: () => now });
    c.set('a', 'x', 300);
    now = 1299.9;
    assert.equal(c.get('a'), 'x');
    now = 1300;
    assert.equal(c.get('a'), undefined);
    assert.equal(c.size, 0);
  });
  it('does not keep values with a TTL of 0, and clamps TTLs', () => {
    let now = 0;
    const c = new TtlCache<number>({ clock: () => now, minTtl: 10, maxTtl: 100 });
    c.set('low', 1, 1);
    c.set('high', 2, 1e9);
    now = 9;
    assert.equal(c.get('low'), 1);
    now = 10;
    assert.equal(c.get('low'), undefined);
    now = 99;
    assert.equal(c.get('high'), 2);
    now = 100;
    assert.equal(c.get('high'), undefined);
    const z = new TtlCache<number>({ clock: () => now });
    z.set('zero', 1, 0);
    z.set('nan', 1, Number.NaN);
    assert.equal(z.size, 0);
  });
  it('drops the oldest entries beyond maxEntries', () => {
    const c = new TtlCache<number>({ clock: () => 0, maxEntries: 2 });
    c.set('a', 1, 60); c.set('b', 2, 60); c.set('a', 3, 60); c.set('c', 4, 60);
    assert.deepEqual([c.get('a'), c.get('b'), c.get('c')], [3, undefined, 4]);
  });
  it('keeps an entry set with an infinite TTL when maxTtl allows it (a memo keyed by content)', () => {
    let now = 0;
    const c = new TtlCache<number>({ clock: () => now, maxTtl: Infinity });
    c.set('k', 1, Infinity);
    now = 1e12;
    assert.equal(c.get('k'), 1);
  });
});

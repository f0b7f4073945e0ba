/** @module common/ttl-cache — the one cache of the service: bounded (oldest inserted out first), entries expire after their TTL (DNS answers, DKIM keys); the clock is passed in. */

export interface TtlCacheOptions {
  /** Epoch seconds now (may be fractional). Default: the system clock. */
  clock?: () => number;
  /** Entries kept at most; the oldest inserted go first. Default 10000. */
  maxEntries?: number;
  /** TTLs are clamped into [minTtl, maxTtl] seconds. Defaults 0 and 86400. */
  minTtl?: number;
  maxTtl?: number;
}

/**
 * Values by key, each until its TTL runs out.
 * @example
 * const cache = new TtlCache<string>({ clock: () => t });
 * cache.set('_smtp._tls.example.org', 'v=TLSRPTv1; …', 300);
 * cache.get('_smtp._tls.example.org'); // until t + 300
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly clock: () => number;
  private readonly maxEntries: number;
  private readonly minTtl: number;
  private readonly maxTtl: number;

  constructor(opts: TtlCacheOptions = {}) {
    this.clock = opts.clock ?? (() => Date.now() / 1000);
    this.maxEntries = opts.maxEntries ?? 10000;
    this.minTtl = opts.minTtl ?? 0;
    this.maxTtl = opts.maxTtl ?? 86400;
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.clock() >= e.expires) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlSeconds: number): void {
    const ttl = Math.min(this.maxTtl, Math.max(this.minTtl, Number.isNaN(ttlSeconds) ? 0 : ttlSeconds));
    if (ttl <= 0) {
      this.entries.delete(key);
      return;
    }
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expires: this.clock() + ttl });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

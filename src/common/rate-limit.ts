/**
 * @module common/rate-limit — a per-client token bucket for the public report
 * endpoint (and any other channel a stranger can reach): each client may send `ratePerMinute`
 * requests, with bursts up to `burst`. Memory is bounded: the least recently seen clients are
 * forgotten first once `maxClients` is reached.
 */

export interface RateLimiterOptions {
  /** Sustained requests per minute per client. */
  ratePerMinute: number;
  /** Requests a client may send at once before it is slowed down (default: max(5, ratePerMinute / 6)). */
  burst?: number;
  /** Clients remembered at most (default 10,000). */
  maxClients?: number;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the next request would be allowed (for `Retry-After`); 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Takes `cost` tokens (default 1: one request; a byte budget passes the byte count). */
  take(client: string, cost?: number): RateDecision;
  /** Clients currently remembered. */
  size(): number;
}

interface Bucket { tokens: number; updatedMs: number }

/**
 * @example
 * const limiter = createRateLimiter({ ratePerMinute: 60 });
 * if (!limiter.take(peerIp).allowed) return c.text('slow down', 429);
 */
export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const now = opts.now ?? Date.now;
  const perMs = opts.ratePerMinute / 60_000;
  const burst = Math.max(1, opts.burst ?? Math.max(5, Math.ceil(opts.ratePerMinute / 6)));
  const maxClients = opts.maxClients ?? 10_000;
  // A Map keeps insertion order: re-inserting on every take makes the first key the least recently seen.
  const buckets = new Map<string, Bucket>();

  return {
    take(client, cost = 1) {
      const t = now();
      let b = buckets.get(client);
      if (b) {
        buckets.delete(client);
        b.tokens = Math.min(burst, b.tokens + (t - b.updatedMs) * perMs);
        b.updatedMs = t;
      } else {
        b = { tokens: burst, updatedMs: t };
        while (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value as string);
      }
      buckets.set(client, b);
      // A cost above the burst could never be paid: it is charged when the bucket is full.
      const need = Math.min(cost, burst);
      if (b.tokens >= need) {
        b.tokens -= need;
        return { allowed: true, retryAfterSeconds: 0 };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((need - b.tokens) / perMs / 1000)) };
    },
    size: () => buckets.size,
  };
}

/**
 * The key a client is limited by: its IPv4 address, or the /64 of its IPv6 address (one
 * customer's network; a single host can use 2^64 addresses of it). IPv4-mapped IPv6
 * (`::ffff:192.0.2.1`) is the IPv4 address.
 * @example clientKey('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 */
export function clientKey(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1];
  if (!a.includes(':')) return a;
  const groups = expandIpv6(a);
  return groups ? `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64` : a;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad allowed), or undefined. */
function expandIpv6(a: string): number[] | undefined {
  let text = a;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [, w, x, y, z] = quad.map(Number);
    text = `${text.slice(0, quad.index)}${((w << 8) | x).toString(16)}:${((y << 8) | z).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...tail].map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  return groups.some(Number.isNaN) ? undefined : groups;
}

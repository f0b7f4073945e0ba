/**
 * @module common/rate-limit — a per-client token bucket for the public report
 * endpoint (and any other channel a stranger can reach): each client may send `ratePerMinute`
 * requests, with bursts up to `burst`. Memory is bounded: the least recently seen clients are
 * forgotten first once `maxClients` is reached.
 */

import { parseIp } from './ip.js';
import type { IPv6 } from 'ipaddr.js';

export interface RateLimiterOptions {
  /** Sustained requests per minute per client. */
  ratePerMinute: number;
  /** Requests a client may send at once before it is slowed down (default: max(5, ratePerMinute / 6)). */
  burst?: number;
  /** Clients remembered at most (default 10,000). */
  maxClients?: number;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
  /** `charge` may take a client this many minutes of its rate into debt (default 60). */
  maxDebtMinutes?: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the next request would be allowed (for `Retry-After`); 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Takes `cost` tokens (default 1: one request; a byte budget passes the byte count). */
  take(client: string, cost?: number): RateDecision;
  /**
   * Charges `cost` tokens for work already done, into debt if need be (at most `maxDebtMinutes`
   * of the rate): what a request turned out to cost (a body's inflated size) is paid for by the
   * client's next requests.
   */
  charge(client: string, cost: number): void;
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

  const maxDebt = (opts.maxDebtMinutes ?? 60) * opts.ratePerMinute;
  const bucket = (client: string): Bucket => {
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
    return b;
  };

  return {
    charge(client, cost) {
      const b = bucket(client);
      b.tokens = Math.max(-maxDebt, b.tokens - cost);
    },
    take(client, cost = 1) {
      const b = bucket(client);
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
  const ip = parseIp(address);
  if (!ip) return address;
  if (ip.kind() === 'ipv4') return ip.toString();
  const v6 = ip as IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

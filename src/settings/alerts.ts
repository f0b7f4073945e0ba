/**
 * @module settings/alerts — the optional `alerts` config section: where notifications go
 * (e-mail through the relay, an HMAC-signed webhook), cooldown, the daily evaluation and
 * digest hour, and the rules with per-domain overrides. Small on purpose: every rule has a
 * default, so `"alerts": {"email": {"to": ["ops@example.org"]}}` is a working setup.
 */
import { z } from 'zod';

export const AlertRules = z.object({
  /** Alert when a domain's failure share of a day is above this (0-1)… */
  failureRate: z.number().min(0).max(1).default(0.05),
  /** …or above this many times its own baseline (the previous 14 days). */
  baselineFactor: z.number().min(1).default(3),
  /** Days with fewer sessions than this are not judged by rate (too noisy). */
  minSessions: z.number().int().nonnegative().default(20),
  /** A failing (MX, result type) pair never seen before. */
  newFailure: z.boolean().default(true),
  /** certificate-expired / certificate-not-trusted failures, urgent. */
  certificate: z.boolean().default(true),
  /** A reporter that reported daily is silent this many days (0: off). */
  silentDays: z.number().int().nonnegative().default(3),
  /** MTA-STS in testing with zero failures this many days: ready to enforce (0: off). */
  readyToEnforceDays: z.number().int().nonnegative().default(30),
  enabled: z.boolean().default(true),
}).strict();

export type AlertRules = z.infer<typeof AlertRules>;

export const AlertsConfig = z.object({
  email: z.object({
    to: z.array(z.string().includes('@')).min(1),
    /** Default: tlsrpt-alerts@<SystemSettings.domain>. */
    from: z.string().includes('@').optional(),
  }).strict().optional(),
  webhook: z.object({
    url: z.string().url().startsWith('https://', 'the webhook must be https://'),
    /** HMAC-SHA256 key; the signature is sent as `X-Tlsrpt-Signature: t=<unix>,sha256=<hex>`. */
    secret: z.string().min(16, 'the webhook secret must have at least 16 characters'),
    caFile: z.string().optional(),
  }).strict().optional(),
  /** The same alert (rule, domain, subject) is notified at most once per this many hours. */
  cooldownHours: z.number().positive().default(24),
  /** UTC hour of the daily evaluation and digest. */
  dailyHourUtc: z.number().int().min(0).max(23).default(6),
  /** How often newly stored reports are evaluated, in seconds. */
  pollSeconds: z.number().positive().default(10),
  rules: AlertRules.partial().default({}),
  domains: z.record(z.string(), AlertRules.partial()).default({}),
}).strict();

export type AlertsConfig = z.infer<typeof AlertsConfig>;

/** The rules in force for a policy domain: defaults, then `rules`, then `domains[domain]`. */
export function rulesFor(config: Pick<AlertsConfig, 'rules' | 'domains'>, domain: string): AlertRules {
  return AlertRules.parse({ ...config.rules, ...(config.domains[domain.toLowerCase()] ?? {}) });
}

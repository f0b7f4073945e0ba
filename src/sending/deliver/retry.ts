/**
 * @module sending/deliver/retry — the retry policy of report delivery: which failures are
 * temporary, and when to try again. RFC 8460 §5.5: retry with exponential backoff for up to
 * 24 hours after the first attempt; then the target has failed.
 */

/** The outcome of one delivery attempt to one rua target. */
export type AttemptOutcome =
  | { kind: 'sent'; detail: string }
  | { kind: 'temporary'; error: string }
  | { kind: 'permanent'; error: string };

export interface RetryPolicy {
  /** Delay before the 2nd attempt, seconds. */
  baseSeconds: number;
  /** Upper bound of one delay, seconds. */
  maxDelaySeconds: number;
  /** How long after the first attempt a target is still retried (RFC 8460 §5.5: 24 hours). */
  giveUpAfterSeconds: number;
  /** Relative jitter: each delay is spread uniformly over ±jitter of its value. */
  jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseSeconds: 60,
  maxDelaySeconds: 4 * 3600,
  giveUpAfterSeconds: 24 * 3600,
  jitter: 0.2,
};

/**
 * When to try again after `attempts` failed attempts (1 = the first attempt failed), or
 * undefined when the next attempt would fall after the retry period: the target has failed.
 * `random` is a uniform number in [0, 1) (injected: tests pass a fixed one).
 * @example nextAttemptAt({ firstAttemptAt: 0, attempts: 1, now: 0, random: 0.5 }) // 60
 */
export function nextAttemptAt(a: { firstAttemptAt: number; attempts: number; now: number; random: number }, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number | undefined {
  const exp = Math.min(policy.baseSeconds * 2 ** Math.max(0, a.attempts - 1), policy.maxDelaySeconds);
  const delay = Math.max(1, Math.round(exp * (1 + policy.jitter * (2 * a.random - 1))));
  const deadline = a.firstAttemptAt + policy.giveUpAfterSeconds;
  if (a.now >= deadline) return undefined;
  // The last retry happens at the deadline rather than being skipped, so the whole 24 hours count.
  return Math.min(a.now + delay, deadline);
}

/**
 * Classifies an SMTP failure from nodemailer: a 5xx reply ends the target (the recipient or
 * the message was refused for good); a 4xx reply, connection and timeout errors are temporary.
 * Relay authentication failures are temporary too: they are our configuration, not the
 * receiver's verdict, and an operator fixing the credentials must not lose the reports.
 */
export function classifySmtpError(err: unknown): AttemptOutcome {
  const e = err as { responseCode?: number; code?: string; message?: string; response?: string };
  const text = oneLine(e?.response || e?.message || String(err));
  if (e?.code === 'EAUTH') return { kind: 'temporary', error: `relay authentication failed: ${text}` };
  if (typeof e?.responseCode === 'number') {
    if (e.responseCode >= 500 && e.responseCode < 600) return { kind: 'permanent', error: `SMTP ${e.responseCode}: ${text}` };
    return { kind: 'temporary', error: `SMTP ${e.responseCode}: ${text}` };
  }
  return { kind: 'temporary', error: `${e?.code ? e.code + ': ' : ''}${text}` };
}

/** Classifies an HTTP status (RFC 8460 §5.4: only 2xx means delivered). */
export function classifyHttpStatus(status: number, location?: string): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'sent', detail: `HTTP ${status}` };
  if (status >= 300 && status < 400) {
    // Redirects are never followed: the new location was not checked against SSRF rules, and
    // RFC 8460 §5.4 gives the receiver no reason to move the endpoint per request.
    return { kind: 'permanent', error: `HTTP ${status} redirect${location ? ` to ${oneLine(location).slice(0, 200)}` : ''} not followed` };
  }
  if (status === 429 || status === 408 || status >= 500) return { kind: 'temporary', error: `HTTP ${status}` };
  return { kind: 'permanent', error: `HTTP ${status}` };
}

export function oneLine(s: string): string {
  return s.replace(/[\r\n\0]+/g, ' ').trim().slice(0, 500);
}

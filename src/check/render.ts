/** @module check/render — the text view of a check: ✔ / ✘ / ! / - per step, the detail, and a hint under each failure or warning. */
import type { CheckReport, StepStatus } from './types.js';

const MARK: Record<StepStatus, string> = { pass: '✔', fail: '✘', warn: '!', skip: '-' };

const clean = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, ' ');

export function renderCheck(r: CheckReport): string {
  const out = [`tlsrpt check ${r.domain} (${r.checkedAt}, ${r.durationMs} ms)`];
  for (const s of r.steps) {
    out.push(`${MARK[s.status]} ${clean(s.title)}: ${clean(s.detail)}`);
    if (s.hint && (s.status === 'fail' || s.status === 'warn')) out.push(`    hint: ${clean(s.hint)}`);
  }
  const count = (st: StepStatus) => r.steps.filter((s) => s.status === st).length;
  out.push(r.ok ? `OK: ${count('pass')} passed, ${count('warn')} warning(s), ${count('skip')} skipped` : `FAILED: ${count('fail')} failure(s), ${count('warn')} warning(s), ${count('pass')} passed`);
  return out.join('\n') + '\n';
}

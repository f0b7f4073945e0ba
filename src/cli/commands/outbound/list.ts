/**
 * @module cli/commands/outbound/list — `tlsrpt outbound list [--domain D] [--json]`: per report
 * domain and open window, the policies with their successful / failed session counts and the
 * failure details collected so far. Reads the store, so it works while `serve` runs (it shows
 * what has been flushed: at most `collector.flushMs` behind).
 */
import type { Command } from 'commander';
import { openConfiguredStore, withConfig, withJson, type CommonOptions } from '../../options.js';
import type { WindowContents } from '../../../analysis/outbound-windows.js';
import { isoSeconds } from '../../../common/time.js';

export function register(outbound: Command): void {
  withJson(withConfig(outbound.command('list')))
    .description('open reporting windows: policies with successful / failed session counts and failure details so far')
    .option('--domain <domain>', 'only this report domain (the recipient domain whose TLSRPT record names the targets)')
    .action(async (opts: CommonOptions & { domain?: string }) => {
      const { listOpenWindows, windowToJson } = await import('../../../analysis/outbound-windows.js');
      const store = await openConfiguredStore(opts, 'read');
      try {
        const windows = await listOpenWindows(store, opts.domain ? { reportDomain: opts.domain } : {});
        // Built reports with each target's delivery state (delivery area).
        const { listReports, renderReports, reportViewToJson } = await import('../../../analysis/outbound-reports.js');
        const reports = await listReports(store, opts.domain ? { reportDomain: opts.domain } : {});
        if (opts.json) process.stdout.write(`${JSON.stringify({ windows: windows.map(windowToJson), reports: reports.map(reportViewToJson) })}\n`);
        else process.stdout.write(`${renderWindows(windows)}\nreports (newest first):\n${renderReports(reports)}`);
      } finally {
        await store.close();
      }
    });
}

const iso = isoSeconds;

/** The human-readable listing (exported for tests). */
export function renderWindows(windows: WindowContents[]): string {
  if (windows.length === 0) return 'no open windows: nothing collected yet (or every window was closed and reported)\n';
  const out: string[] = [];
  for (const w of windows) {
    const ok = w.policies.reduce((n, p) => n + p.successful, 0);
    const bad = w.policies.reduce((n, p) => n + p.failed, 0);
    out.push(`${w.reportDomain}  ${w.frequency} window ${iso(w.windowStart)} – ${iso(w.windowEnd)}  (id ${w.id}; ${ok} successful, ${bad} failed)`);
    const rows = w.policies.map((p) => [describePolicy(p.policy), String(p.successful), String(p.failed)] as const);
    const width = Math.max(6, ...rows.map(([policy]) => policy.length));
    out.push(`  ${'POLICY'.padEnd(width)}  ${'SUCCESSFUL'.padStart(10)}  ${'FAILED'.padStart(8)}`);
    w.policies.forEach((p, i) => {
      const [policy, successful, failed] = rows[i] ?? ['', '', ''];
      out.push(`  ${policy.padEnd(width)}  ${successful.padStart(10)}  ${failed.padStart(8)}`);
      if (p.tlsrptRecord) out.push(`    record: ${oneLine(p.tlsrptRecord)}`);
      for (const d of p.failureDetails) {
        const where = [d.sendingMtaIp && `from ${d.sendingMtaIp}`, d.receivingMxHostname && `to ${d.receivingMxHostname}`, d.receivingIp && `(${d.receivingIp})`].filter(Boolean).join(' ');
        const why = d.failureReasonCode ?? d.additionalInformation;
        out.push(`    ${String(d.failedSessionCount).padStart(8)} × ${d.resultType}${where ? ` ${where}` : ''}${why ? ` — ${oneLine(why)}` : ''}`);
      }
    });
    out.push('');
  }
  return `${out.join('\n')}`;
}

function describePolicy(p: WindowContents['policies'][number]['policy']): string {
  const mx = p.mxHost.length ? ` mx ${p.mxHost.join(',')}` : '';
  const mode = p.policyType === 'sts' ? p.policyString.find((l) => /^mode\s*:/.test(l))?.replace(/\s+/g, '') : undefined;
  const tlsa = p.policyType === 'tlsa' ? ` ${p.policyString.length} TLSA` : '';
  return `${p.policyType} ${p.policyDomain}${mode ? ` ${mode}` : ''}${tlsa}${mx}`;
}

/** Control characters (CR LF TAB from a multi-line EHLO reply) must not break the table. */
const oneLine = (s: string) => JSON.stringify(s).slice(1, -1).slice(0, 160);

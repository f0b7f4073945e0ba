/**
 * @module cli/commands/inbound/show — `tlsrpt inbound show ID`: one stored report with every field
 * it has (RFC 8460 §4.4): per policy its policy strings and mx-host patterns, per failure detail
 * the sending MTA, receiving MX / HELO / IP, reason code and additional information — so two
 * details that differ only there no longer look alike. `--json`, `--csv` (a line per detail), `--raw`.
 */
import type { Command } from 'commander';
import { withConfig, withJson } from '../../options.js';
import type { InboundReportDetail } from '../../../analysis/inbound-reports.js';
import { clean, guarded, oneFormat, withCsv, withStore, type FilterOptions } from './common.js';

const pct = (failed: number, ok: number) => (failed + ok > 0 ? `${((100 * failed) / (failed + ok)).toFixed(1)}%` : '-');

/** The text view: a header block, then each policy and its failure details as labelled lines. */
export function renderReport(detail: InboundReportDetail): string {
  const out: string[] = [
    `Report ${detail.id}: ${clean(detail.reportId)}`,
    `  reporter        ${clean(detail.reporter)} (${clean(detail.organizationName)}${detail.contactInfo ? `, ${clean(detail.contactInfo)}` : ''})`,
    `  period          ${detail.startDatetime} .. ${detail.endDatetime}`,
    `  received        ${detail.receivedAt} by ${detail.channel}${detail.peer ? ` from ${clean(detail.peer)}` : ''}${detail.source ? ` (${clean(detail.source)})` : ''}`,
    `  DKIM            ${detail.dkim.result}${detail.dkim.domain ? ` d=${clean(detail.dkim.domain)}` : ''}${detail.dkim.result !== 'none' ? (detail.dkim.aligned ? ' aligned' : ' NOT aligned') : ''}`,
    `  sessions        ${detail.successful} successful, ${detail.failed} failed (${pct(detail.failed, detail.successful)})`,
  ];
  detail.report.policies.forEach((p, i) => {
    const s = p.summary;
    out.push('', `Policy ${i + 1}: ${clean(p.policy.policyType)} ${clean(p.policy.policyDomain)} — ${s.totalSuccessfulSessionCount} successful, ${s.totalFailureSessionCount} failed (${pct(s.totalFailureSessionCount, s.totalSuccessfulSessionCount)})`);
    const list = (label: string, values: string[]) => {
      if (!values.length) out.push(`  ${label.padEnd(16)}(none)`);
      values.forEach((v, j) => out.push(`  ${(j === 0 ? label : '').padEnd(16)}${clean(v)}`));
    };
    list('policy string', p.policy.policyString);
    list('mx-host', p.policy.mxHost);
    if (!p.failureDetails.length) out.push('  failures        (none reported)');
    for (const d of p.failureDetails) {
      out.push(`  failure         ${clean(d.resultType)}: ${d.failedSessionCount} session(s)`);
      const fields: [string, string | undefined][] = [
        ['sending-mta-ip', d.sendingMtaIp], ['receiving-mx-hostname', d.receivingMxHostname], ['receiving-mx-helo', d.receivingMxHelo],
        ['receiving-ip', d.receivingIp], ['failure-reason-code', d.failureReasonCode], ['additional-information', d.additionalInformation],
      ];
      for (const [k, v] of fields) if (v) out.push(`    ${k.padEnd(24)}${clean(v)}`);
      for (const [k, v] of Object.entries(d.extra ?? {})) out.push(`    ${clean(k).padEnd(24)}${clean(typeof v === 'string' ? v : JSON.stringify(v))} (non-RFC key)`);
    }
  });
  if (detail.findings.length) {
    out.push('', 'Findings (deviations from RFC 8460 that were accepted):');
    for (const f of detail.findings) out.push(`  ${f.code}${f.path ? ` at ${f.path}` : ''}: ${clean(f.message)}`);
  }
  return out.join('\n') + '\n';
}

export function register(inbound: Command): void {
  withCsv(withJson(withConfig(inbound.command('show'))))
    .description('one stored report with every field: policy strings, mx-host patterns, each failure detail; findings, DKIM, origin')
    .argument('<id>', 'report id (from `tlsrpt inbound list`)')
    .option('--raw', 'write the raw bytes as received (e.g. the whole e-mail) to stdout instead')
    .action((idText: string, opts: FilterOptions & { raw?: boolean }) =>
      guarded('show', async () => {
        oneFormat('show', opts);
        if (!/^\d{1,15}$/.test(idText)) {
          process.stderr.write(`tlsrpt inbound show: the id must be a number (see tlsrpt inbound list), got ${JSON.stringify(idText)}\n`);
          process.exit(2);
        }
        const { getInboundReport } = await import('../../../analysis/inbound-reports.js');
        const detail = await withStore(opts, (store) => getInboundReport(store, Number(idText)));
        if (!detail) {
          process.stderr.write(`tlsrpt inbound show: no inbound report with id ${idText}\n`);
          process.exitCode = 1;
          return;
        }
        if (opts.raw) process.stdout.write(Buffer.from(detail.raw, 'base64'));
        else if (opts.json) process.stdout.write(JSON.stringify(detail) + '\n');
        else if (opts.csv) process.stdout.write((await import('../../../analysis/inbound-csv.js')).detailCsv(detail));
        else process.stdout.write(renderReport(detail));
      }),
    );
}

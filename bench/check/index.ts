/**
 * @module bench/check — `tlsrpt check` for a domain with 3 MX hosts on loopback (issue 14: ≤ 2 s):
 * a dns-packet DNS server, an HTTPS policy host and three STARTTLS SMTP servers (127.0.0.2-4)
 * with a test CA; times the library call (median and worst of RUNS) and the whole command
 * (`node bin/tlsrpt.js check`, process start included).
 *
 *   npm run bench -- check [runs=7]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { startDnsServer } from '../../test/support/dns-server.js';
import { makePki } from '../../test/check/pki.js';
import { createResolver } from '../../src/dns/resolver.js';
import { checkDomain } from '../../src/check/index.js';
import { tlsaOverUdp } from '../../src/check/dns.js';

const RUNS = Number(process.argv[2] ?? 7);
const pki = makePki();
const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-bench-check-'));
const web = pki.leaf(['mta-sts.bench.test']);
const mx = pki.leaf(['*.bench.test']);
const https = createServer({ cert: web.certPem, key: web.keyPem }, (_q, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('version: STSv1\r\nmode: enforce\r\nmx: *.bench.test\r\nmax_age: 604800\r\n');
});
await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
let smtpPort = 0;
const smtp: SMTPServer[] = [];
for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
  const s = new SMTPServer({ secure: false, logger: false, authOptional: true, disabledCommands: ['AUTH'], key: mx.keyPem, cert: mx.certPem });
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(smtpPort, address, () => resolve()); });
  smtpPort = (s.server.address() as { port: number }).port;
  smtp.push(s);
}
const dns = await startDnsServer({
  'bench.test': { MX: [1, 2, 3].map((i) => ({ exchange: `mx${i}.bench.test`, priority: i })) },
  '_smtp._tls.bench.test': { TXT: [['v=TLSRPTv1; rua=mailto:tlsrpt@bench.test']] },
  '_mta-sts.bench.test': { TXT: [['v=STSv1; id=1']] },
  'mta-sts.bench.test': { A: ['127.0.0.1'] },
  'mx1.bench.test': { A: ['127.0.0.2'] }, 'mx2.bench.test': { A: ['127.0.0.3'] }, 'mx3.bench.test': { A: ['127.0.0.4'] },
});
const httpsPort = (https.address() as { port: number }).port;
try {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = await checkDomain('bench.test', {
      resolver: createResolver({ servers: dns.servers }), tlsa: tlsaOverUdp(dns.servers, 2000),
      ports: { https: httpsPort, smtp: smtpPort }, ca: [pki.caPem],
    });
    times.push(performance.now() - t0);
    if (!r.ok) throw new Error(`the bench domain should pass: ${JSON.stringify(r.steps.filter((s) => s.status === 'fail'))}`);
  }
  times.sort((a, b) => a - b);
  writeFileSync(path.join(dir, 'ca.pem'), pki.caPem);
  writeFileSync(path.join(dir, 'tlsrpt.json'), JSON.stringify({ store: { sqlite: path.join(dir, 'db.sqlite') }, dns: { servers: dns.servers } }));
  const t0 = performance.now();
  // Asynchronous: the DNS, HTTPS and SMTP peers live in this process and must keep answering.
  const cli = await promisify(execFile)(process.execPath, ['bin/tlsrpt.js', 'check', 'bench.test', '--config', path.join(dir, 'tlsrpt.json'), '--smtp-port', String(smtpPort), '--https-port', String(httpsPort), '--ca', path.join(dir, 'ca.pem')], { encoding: 'utf8' });
  const cliMs = performance.now() - t0;
  console.log(cli.stdout.trimEnd());
  console.log(`library call over ${RUNS} runs: median ${times[Math.floor(RUNS / 2)].toFixed(0)} ms, worst ${times[RUNS - 1].toFixed(0)} ms; whole command ${cliMs.toFixed(0)} ms`);
  console.log(`RESULT check_3mx_median_ms ${times[Math.floor(RUNS / 2)].toFixed(0)} ms`);
  console.log(`RESULT check_3mx_worst_ms ${times[RUNS - 1].toFixed(0)} ms`);
  console.log(`RESULT check_3mx_cli_ms ${cliMs.toFixed(0)} ms`);
} finally {
  await Promise.all(smtp.map((s) => new Promise<void>((r) => s.close(() => r()))));
  https.closeAllConnections();
  https.close();
  await dns.close();
  pki.dispose();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * @module bench/expr — evaluations per second of a compiled 3-branch `match` setting with string
 * functions, over 1,000 distinct policy domains (target ≥ 1,000,000/s).
 */
import { compileSetting } from '../src/expr/index.js';

const setting = {
  match: [
    { if: "ends_with(to_lowercase(rcpt_domain), '.gov')", then: 'hourly' },
    { if: "starts_with(rcpt_domain, 'mail.') && contains(rcpt_domain, 'bank')", then: "'weekly'" },
    { if: "matches('^([a-z0-9-]+)\\\\.example\\\\.(org|net)$', rcpt_domain)", then: "if_then($2 == 'org', 'daily', 'never')" },
  ],
  else: 'daily',
};
const compiled = compileSetting(setting, {
  variables: ['rcpt_domain'],
  constants: { hourly: 'hourly', daily: 'daily', weekly: 'weekly', never: 'never' },
});

const domains = Array.from({ length: 1000 }, (_, i) => {
  switch (i % 5) {
    case 0: return `agency${i}.GOV`;
    case 1: return `mail.bank${i}.com`;
    case 2: return `host${i}.example.org`;
    case 3: return `host${i}.example.net`;
    default: return `d${i}.example.com`;
  }
});
const vars = domains.map((d) => ({ rcpt_domain: d }));

const counts: Record<string, number> = {};
for (const v of vars) {
  const r = String(compiled.evaluate(v));
  counts[r] = (counts[r] ?? 0) + 1;
}
console.log('results per 1,000 domains:', JSON.stringify(counts));

function run(iterations: number): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += (compiled.evaluate(vars[i % 1000]) as string).length;
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === 42) console.log('');
  return iterations / (ns / 1e9);
}

run(300_000); // warm up the JIT
const rates: number[] = [];
for (let round = 0; round < 5; round++) rates.push(run(2_000_000));
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)];
console.log(`rounds (evals/s): ${rates.map((r) => Math.round(r)).join(', ')}`);
console.log(`RESULT expr_evals_per_s ${Math.round(median)} 1/s`);

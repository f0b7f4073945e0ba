/**
 * @module test/sending/events-http-schema — the JSON event schema: the hand-written fast path
 * accepts only what the zod schema accepts and converts exactly like it (property test over
 * valid events and mutations of them); key order and set-like array order do not change the
 * policy fingerprint of a converted event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventBatchJson, fastParseEventBatch, outcomeFromJson, parseEventBatch, EventJsonError } from '../../src/sending/collect/event.js';
import { policyFingerprint } from '../../src/sending/collect/fingerprint.js';
import { RESULT_TYPES } from '../../src/rfc8460/types.js';

const str = fc.oneof(fc.constantFrom('', 'a', 'mx.example.org', 'x'.repeat(300), 'x'.repeat(5000), '  ', 'é', '\u0000', 'a b'), fc.string({ maxLength: 20 }));
const domain = fc.oneof(fc.constantFrom('example.org', 'Example.ORG.', 'a', 'x'.repeat(254), 'x'.repeat(255), 'a b', 'a/b', 'a@b', '', 'ümlaut.de'), fc.domain());
const ipish = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('300.1.1.1', '::g', '192.0.2.1 ', ''));
const anyJson = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), str, fc.constant([]), fc.constant({}));

const detail = fc.record({
  'result-type': fc.oneof(fc.constantFrom(...RESULT_TYPES), fc.constantFrom('unknown-type', '')),
  'sending-mta-ip': ipish, 'receiving-mx-hostname': str, 'receiving-mx-helo': str, 'receiving-ip': ipish,
  'additional-information': str, 'failure-reason-code': str,
}, { requiredKeys: [] });
const policy = fc.record({
  'policy-type': fc.constantFrom('sts', 'tlsa', 'no-policy-found', 'dane', 'STS'),
  'policy-domain': domain,
  'policy-string': fc.array(str, { maxLength: 4 }),
  'mx-host': fc.array(str, { maxLength: 3 }),
  result: fc.constantFrom('success', 'failure', 'ok'),
  'failure-details': fc.array(detail, { maxLength: 3 }),
}, { requiredKeys: ['policy-type', 'result'] });
const event = fc.record({
  'recipient-domain': domain,
  'tlsrpt-record': str,
  'is-report-delivery': fc.oneof(fc.boolean(), fc.constant('yes')),
  policies: fc.array(policy, { minLength: 0, maxLength: 3 }),
}, { requiredKeys: ['recipient-domain', 'policies'] });

/** Mutations: set a random path to a random JSON value, or add an unknown key. */
function mutate(batch: any, pick: number, value: unknown, addKey: boolean): any {
  const copy = JSON.parse(JSON.stringify(batch));
  const holders: any[] = [];
  const walk = (v: any) => {
    if (v && typeof v === 'object') {
      holders.push(v);
      for (const k of Object.keys(v)) walk(v[k]);
    }
  };
  walk(copy);
  const h = holders[pick % holders.length];
  const keys = Object.keys(h);
  if (addKey || keys.length === 0) h[Array.isArray(h) ? h.length : 'unexpected'] = value;
  else h[keys[pick % keys.length]] = value;
  return copy;
}

test('the fast path accepts only what the zod schema accepts, and converts identically', () => {
  let fastAccepted = 0;
  fc.assert(
    fc.property(fc.array(event, { maxLength: 3 }), fc.nat(), anyJson, fc.boolean(), fc.boolean(), (events, pick, value, doMutate, addKey) => {
      const input = doMutate ? mutate({ events }, pick, value, addKey) : { events };
      const fast = fastParseEventBatch(input);
      const zod = EventBatchJson.safeParse(input);
      if (fast) {
        fastAccepted++;
        assert.ok(zod.success, `fast path accepted what zod rejects: ${JSON.stringify(input).slice(0, 300)} — ${!zod.success && zod.error.issues[0].message}`);
        assert.deepEqual(fast, zod.data.events.map(outcomeFromJson));
      }
    }),
    { numRuns: 3000 },
  );
  assert.ok(fastAccepted > 100, `the fast path accepted only ${fastAccepted} batches`);
});

test('the fast path takes the ordinary events (it is the hot path, not a formality)', () => {
  const ok = { events: [{ 'recipient-domain': 'Example.ORG.', 'tlsrpt-record': 'v=TLSRPTv1; rua=mailto:a@example.org', policies: [{ 'policy-type': 'sts', 'policy-string': ['version: STSv1'], 'mx-host': ['*.example.org'], result: 'failure', 'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '2001:db8::1', 'receiving-ip': '198.51.100.1' }] }] }] };
  const fast = fastParseEventBatch(ok);
  assert.ok(fast);
  assert.equal(fast[0].recipientDomain, 'example.org');
  assert.equal(fast[0].policies[0].policy.policyDomain, 'example.org');
});

test('bad input is refused by parseEventBatch with the zod path and message', () => {
  assert.throws(() => parseEventBatch({ events: [{ 'recipient-domain': 'a.example', policies: [{ 'policy-type': 'sts', result: 'success', extra: 1 }] }] }),
    (e: unknown) => e instanceof EventJsonError && e.path === 'events[0].policies[0]' && /unknown key "extra"/.test(e.message));
});

test('JSON key order and the order of mx-host / STS lines do not change the fingerprint', () => {
  const a = parseEventBatch(JSON.parse('{"events":[{"recipient-domain":"example.org","policies":[{"policy-type":"sts","policy-string":["version: STSv1","mode: enforce","mx: a.example.org","mx: b.example.org"],"mx-host":["a.example.org","b.example.org"],"result":"success"}]}]}'));
  const b = parseEventBatch(JSON.parse('{"events":[{"policies":[{"result":"success","mx-host":["b.example.org","a.example.org"],"policy-string":["mx: b.example.org","mode: enforce","mx: a.example.org","version: STSv1"],"policy-type":"sts"}],"recipient-domain":"EXAMPLE.ORG."}]}'));
  assert.equal(policyFingerprint(a[0].policies[0].policy), policyFingerprint(b[0].policies[0].policy));
});

/** @module test/sending/delivery/retry — backoff schedule and failure classification. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyHttpStatus, classifySmtpError, nextAttemptAt, DEFAULT_RETRY_POLICY } from '../../../src/sending/deliver/retry.js';

describe('nextAttemptAt', () => {
  it('backs off exponentially from 60 s, with jitter inside ±20 %', () => {
    const at = (attempts: number, random: number) => nextAttemptAt({ firstAttemptAt: 0, attempts, now: 0, random })!;
    assert.equal(at(1, 0.5), 60);
    assert.equal(at(2, 0.5), 120);
    assert.equal(at(3, 0.5), 240);
    assert.equal(at(1, 0), 48);
    assert.ok(at(1, 0.999) <= 72);
    assert.equal(at(20, 0.5), DEFAULT_RETRY_POLICY.maxDelaySeconds);
  });
  it('keeps retrying for 24 hours after the first attempt, then gives up', () => {
    let now = 1000;
    let attempts = 0;
    const times: number[] = [];
    for (;;) {
      attempts++;
      const next = nextAttemptAt({ firstAttemptAt: 1000, attempts, now, random: 0.5 });
      if (next === undefined) break;
      times.push(next);
      now = next;
    }
    assert.equal(times.at(-1), 1000 + 86400, 'the last retry falls on the 24 h mark');
    assert.ok(attempts > 10 && attempts < 40, `${attempts} attempts`);
  });
});

describe('classification', () => {
  it('SMTP 5xx is permanent, 4xx and connection errors temporary, auth failures temporary', () => {
    assert.equal(classifySmtpError({ responseCode: 550, response: '550 no such user' }).kind, 'permanent');
    assert.equal(classifySmtpError({ responseCode: 451, response: '451 try later' }).kind, 'temporary');
    assert.equal(classifySmtpError({ code: 'ECONNECTION', message: 'connect ECONNREFUSED' }).kind, 'temporary');
    assert.equal(classifySmtpError({ code: 'ETIMEDOUT', message: 'Timeout' }).kind, 'temporary');
    assert.equal(classifySmtpError({ code: 'EAUTH', responseCode: 535, message: 'bad' }).kind, 'temporary');
  });
  it('HTTP: only 2xx counts; 3xx and 4xx are permanent; 5xx, 429 and 408 temporary', () => {
    assert.equal(classifyHttpStatus(200).kind, 'sent');
    assert.equal(classifyHttpStatus(201).kind, 'sent');
    assert.equal(classifyHttpStatus(204).kind, 'sent');
    assert.equal(classifyHttpStatus(302, 'https://10.0.0.1/').kind, 'permanent');
    assert.equal(classifyHttpStatus(400).kind, 'permanent');
    assert.equal(classifyHttpStatus(404).kind, 'permanent');
    assert.equal(classifyHttpStatus(429).kind, 'temporary');
    assert.equal(classifyHttpStatus(408).kind, 'temporary', 'Request Timeout: the receiver was slow, try again');
    assert.equal(classifyHttpStatus(409).kind, 'permanent');
    assert.equal(classifyHttpStatus(500).kind, 'temporary');
    assert.equal(classifyHttpStatus(503).kind, 'temporary');
  });
  it('never lets CR/LF from a server into the error text', () => {
    const o = classifySmtpError({ responseCode: 550, response: '550 bad\r\nInjected: yes' });
    assert.ok(o.kind === 'permanent' && !/[\r\n]/.test(o.error));
  });
});

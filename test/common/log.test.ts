/** @module test/common/log — log.format: pretty lines for a person, JSON lines for the journal; levels; errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createLogger } from '../../src/common/log.js';

test('json: one object per line in pino\'s shape (numeric level, epoch ms time, msg), errors serialised', () => {
  const lines: string[] = [];
  const log = createLogger({ format: 'json', write: (l) => lines.push(l) }).child({ component: 'collector' });
  log.warn({ socket: '/run/x.sock', err: new Error('boom') }, 'receive failed');
  log.debug('not shown at info');
  assert.equal(lines.length, 1);
  assert.ok(lines[0].endsWith('\n'));
  const rec = JSON.parse(lines[0]);
  assert.equal(rec.level, 40);
  assert.equal(typeof rec.time, 'number');
  assert.equal(rec.component, 'collector');
  assert.equal(rec.msg, 'receive failed');
  assert.equal(rec.err.message, 'boom');
  assert.match(rec.err.stack, /^Error: boom/);
});

test('pretty: ISO time, level name, message, then key=value', () => {
  const lines: string[] = [];
  const log = createLogger({ format: 'pretty', level: 'debug', write: (l) => lines.push(l) });
  log.child({ component: 'http' }).debug({ listen: '127.0.0.1:8080', note: 'two words', n: { a: 1 } }, 'http listening');
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG http listening component=http listen=127\.0\.0\.1:8080 note="two words" n=\{"a":1\}\n$/);
});

test('a child with its own level; a circular object does not lose the event', () => {
  const lines: string[] = [];
  const log = createLogger({ format: 'json', write: (l) => lines.push(l) });
  log.child({}, { level: 'error' }).warn('hidden');
  const circ: Record<string, unknown> = {};
  circ.self = circ;
  log.info({ circ }, 'still logged');
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]).msg, 'still logged');
});

test('auto is JSON when stderr is not a terminal; TLSRPT_LOG_FORMAT=pretty forces lines', () => {
  const script = "import('./src/common/log.ts').then(({ log }) => log.info({ a: 1 }, 'hello'))";
  const auto = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, TLSRPT_LOG_FORMAT: '' } });
  assert.equal(JSON.parse(auto.stderr).msg, 'hello');
  const pretty = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, TLSRPT_LOG_FORMAT: 'pretty' } });
  assert.match(pretty.stderr, /Z INFO {2}hello a=1\n$/);
});

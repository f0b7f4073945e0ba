/** @module test/cli/completion — `tlsrpt completion bash|zsh` and `tlsrpt man` follow the commander definitions. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const BIN = path.resolve('bin/tlsrpt.js');
const tlsrpt = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

/** What bash offers after `tlsrpt <words>` with the generated completion loaded. */
function complete(script: string, words: string[]): string[] {
  const line = ['tlsrpt', ...words].map((w) => `'${w}'`).join(' ');
  const r = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=${words.length}; _tlsrpt; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash completion: subcommands by position, then the options of the command typed', () => {
  const script = tlsrpt('completion', 'bash');
  assert.deepEqual(complete(script, ['out']), ['outbound']);
  assert.deepEqual(complete(script, ['outbound', '']).sort(), ['--help', '-h', 'list', 'preview', 'send'].sort());
  assert.ok(complete(script, ['outbound', 'send', '--']).includes('--now'));
  assert.ok(complete(script, ['serve', '--c']).includes('--config'));
});

test('zsh completion loads the same function through bashcompinit; an unknown shell is a usage error', () => {
  assert.match(tlsrpt('completion', 'zsh'), /^#compdef tlsrpt\n[\s\S]*bashcompinit[\s\S]*complete -F _tlsrpt tlsrpt/);
  const r = spawnSync(process.execPath, [BIN, 'completion', 'fish'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown shell "fish"/);
});

test('man page: roff with every command and option of --help', () => {
  const page = tlsrpt('man');
  assert.match(page, /^\.TH TLSRPT 1 /);
  const help = tlsrpt('--help');
  for (const cmd of ['serve', 'parse', 'record', 'expr', 'settings', 'import', 'inbound', 'outbound', 'completion']) {
    assert.match(help, new RegExp(`^  ${cmd}\\b`, 'm'));
    assert.match(page, new RegExp(`^\\.B tlsrpt ${cmd}\\b`, 'm'), `man page has ${cmd}`);
  }
  assert.match(page, /^\.B tlsrpt outbound send /m);
  assert.match(page, /^\.B \\-\\-now$/m);
});

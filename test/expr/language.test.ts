/** @module test/expr/language — the expression table: every operator, precedence level, function, conversion, truthiness rule and error position of docs/spec/expressions.md. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, ExprError, type ExprContext, type Value } from '../../src/expr/index.js';

const ctx: ExprContext = {
  variables: ['rcpt_domain', 'submitter', 'report_id', 'empty_var', 'list_var', 'num_var'],
  constants: { hourly: 'hourly', daily: 'daily' },
  host: {
    system: (n) => ({ domain: 'example.org', hostname: 'mx.example.org', node_id: 'node-1' })[n] ?? '',
    isLocalDomain: (d) => d === 'example.org',
  },
};
const vars = { rcpt_domain: 'Mail.Example.COM', submitter: 'mx.example.org', report_id: 'r1', list_var: ['b', 'a', 'b'], num_var: 7 };

const ev = (src: string): Value => compileExpression(src, ctx).evaluate(vars);

/** [expression, expected value] */
const TABLE: [string, Value][] = [
  // literals
  ['25', 25], ['1.5', 1.5], ["'TLS Report'", 'TLS Report'], ['"x"', 'x'], ['true', 1], ['false', 0],
  ["'a\\nb\\r\\t\\\\\\'\\\"'", 'a\nb\r\t\\\'"'], ['"it\'s"', "it's"],
  // durations (milliseconds) and sizes
  ['30d', 2592000000], ['12h', 43200000], ['5m', 300000], ['10s', 10000], ['500ms', 500], ['2h', 7200000], ['26214400', 26214400],
  // arithmetic
  ['2 + 3', 5], ['7 - 10', -3], ['6 * 7', 42], ['9 / 2', 4.5], ['1 / 0', 0], ['0 / 0', 0], ['1.5 + 1', 2.5],
  ["'x' + 'y'", 'xy'], ["'n' + 5", 'n5'], ["5 + 'n'", '5n'], ["1.5 + 'x'", '1.5x'], ["'3' * '4'", 12], ["'10' - 4", 6], ["'a' * 2", 0],
  ['[1, 2] + [3]', [1, 2, 3]], ['[1] + 2', [1, 2]], ["'a' + ['b']", ['a', 'b']], ['[1, 2, 1, 3] - 1', [2, 3]], ['[1, 2, 3] - [1, 3]', [2]],
  // unary
  ['-5', -5], ['--5', 5], ['-(2 + 3)', -5], ["-'4'", -4], ['!0', 1], ['!1', 0], ["!''", 1], ["!'x'", 0], ['![]', 1], ['!!7', 1],
  // comparison (string vs number parses the string; two strings compare lexicographically)
  ['1 < 2', 1], ['2 < 1', 0], ['2 > 1', 1], ['2 >= 2', 1], ['1 <= 0', 0], ['2 <= 2', 1], ['1 <= 2', 1], ['2 < 2', 0], ['2 >= 3', 0], ["'10' > 9", 1], ["9 < '10'", 1], ["'abc' < 'abd'", 1],
  ["'b' > 'a'", 1], ["'10' < '9'", 1], ['1 == 1', 1], ['1 = 1', 1], ["'1' == 1", 1], ["'a' == 'a'", 1], ["'a' != 'b'", 1], ['1 != 1', 0],
  ["'1.0' == 1", 1], ['[1, 2] == [1, 2]', 1], ['[1] == 1', 0], ['1 => 1', 1], ['1 =< 2', 1],
  // logic (results are 1/0), xor, aliases
  ['1 && 2', 1], ['1 && 0', 0], ['0 || 3', 1], ["'' || ''", 0], ['1 & 1', 1], ['0 | 1', 1], ['1 ^ 0', 1], ['1 ^ 1', 0], ['0 ^ 0', 0],
  // truthiness: 0, 0.0, "", [] are false; everything else true
  ["if_then(0, 'T', 'F')", 'F'], ["if_then(0.0, 'T', 'F')", 'F'], ["if_then('', 'T', 'F')", 'F'], ["if_then([], 'T', 'F')", 'F'],
  ["if_then('0', 'T', 'F')", 'T'], ["if_then([0], 'T', 'F')", 'T'], ["if_then(-1, 'T', 'F')", 'T'], ["if_then(0.5, 'T', 'F')", 'T'],
  // precedence, high to low: unary; * /; + -; < > <= >=; == !=; ^; &&; ||
  ['2 + 3 * 4', 14], ['(2 + 3) * 4', 20], ['10 - 4 - 3', 3], ['12 / 2 / 3', 2], ['-2 * 3', -6], ['!0 + 1', 2],
  ['1 + 1 < 3', 1], ['1 < 2 == 1', 1], ['1 == 2 ^ 1', 1], ['1 ^ 0 && 0', 0], ['0 && 0 || 1', 1], ['1 || 0 && 0', 1], ['0 ^ 1 || 0', 1],
  ['1 == 1 && 2 == 2', 1], ['1 + 2 == 3', 1], ['2 * 3 > 5', 1], ['!1 == 0', 1],
  // short-circuit: the right side is not evaluated (hash of a huge split would show up as a wrong value otherwise)
  ['0 && no_value_marker(1)', 0], ['1 || no_value_marker(1)', 1],
  // arrays and indexing
  ['[]', []], ["[1, 'a', [2]]", [1, 'a', [2]]], ['[10, 20, 30][1]', 20], ['[10, 20][5]', ''], ["split('a.b.c', '.')[2]", 'c'],
  ["'abc'[0]", 'abc'], ['[[1, 2], [3]][0][1]', 2], ["[1, 2]['1']", 2], ['list_var[0]', 'b'],
  // variables: a variable with no value is ""
  ['rcpt_domain', 'Mail.Example.COM'], ['empty_var', ''], ["empty_var == ''", 1], ['num_var + 1', 8], ['daily', 'daily'],
  // system() and is_local_domain()
  ["system('domain')", 'example.org'], ["system('hostname')", 'mx.example.org'], ["system('node_id')", 'node-1'],
  ["'noreply-tls@' + system('domain')", 'noreply-tls@example.org'],
  ["is_local_domain('example.org')", 1], ["is_local_domain('other.org')", 0], ["is_local_domain('x', 'example.org')", 1],
  // list functions
  ["count(['a', 'b'])", 2], ["count('x')", 1], ["count('')", 0], ['sort([3, 1, 2], true)', [1, 2, 3]], ['sort([3, 1, 2], false)', [3, 2, 1]],
  ["sort(['b', 'a'], 1)", ['a', 'b']], ['dedup(list_var)', ['b', 'a']], ["dedup([1, '1', 2])", [1, 2]],
  // tests
  ["is_empty('')", 1], ["is_empty('a')", 0], ['is_empty([])', 1], ['is_empty(0)', 0], ['is_number(1)', 1], ['is_number(1.5)', 1], ["is_number('1')", 0],
  ["is_email('jane@example.org')", 1], ["is_email('jane@localhost')", 0], ["is_email('jane')", 0], ["is_email('a b@example.org')", 0], ["is_email('\"a b\"@example.org')", 1],
  ["email_part('Jane@Example.org', 'local')", 'Jane'], ["email_part('jane@example.org', 'domain')", 'example.org'], ["email_part('nobody', 'domain')", ''],
  ["email_part(['a@x.org', 'b@y.org'], 'domain')", ['x.org', 'y.org']],
  ["is_ip_addr('192.0.2.1')", 1], ["is_ip_addr('2001:db8::1')", 1], ["is_ip_addr('example.org')", 0],
  ["is_ipv4_addr('192.0.2.1')", 1], ["is_ipv4_addr('::1')", 0], ["is_ipv6_addr('::1')", 1], ["is_ipv6_addr('10.0.0.1')", 0],
  ["is_ip_in_cidr('10.1.2.3', '10.0.0.0/8')", 1], ["is_ip_in_cidr('11.1.2.3', '10.0.0.0/8')", 0], ["is_ip_in_cidr('2001:db8::5', '2001:db8::/32')", 1],
  ["is_ip_in_cidr('10.0.0.1', 'garbage')", 0], ["is_ip_in_cidr('10.0.0.1', '10.0.0.1')", 1],
  // text functions
  ["trim('  a b  ')", 'a b'], ["trim_start('  a ')", 'a '], ["trim_end('  a ')", '  a'], ["trim([' a ', 'b '])", ['a', 'b']],
  ["len('abc')", 3], ["len('é')", 1], ['len([1, 2])', 2], ['len(12345)', 5],
  ['to_lowercase(rcpt_domain)', 'mail.example.com'], ["to_uppercase('abc')", 'ABC'], ["to_lowercase(['A', 'B'])", ['a', 'b']],
  ["contains('example.org', 'ple')", 1], ["contains('example.org', 'xyz')", 0], ["contains(['a', 'b'], 'b')", 1], ["contains(['ab'], 'a')", 0],
  ["contains_ignore_case('Example.ORG', 'example.org')", 1], ["contains_ignore_case(['A', 'B'], 'b')", 1],
  ["eq_ignore_case('ABC', 'abc')", 1], ["eq_ignore_case('ABC', 'abd')", 0],
  ["starts_with('mail.example', 'mail.')", 1], ["starts_with('example', 'mail.')", 0], ["ends_with('agency.gov', '.gov')", 1], ["ends_with('gov.uk', '.gov')", 0],
  ["lines('a\\nb\\r\\nc')", ['a', 'b', 'c']], ["lines('')", []],
  ["substring('example', 2, 3)", 'amp'], ["substring('abc', 5, 1)", ''], ["substring('abc', 1, 10)", 'bc'],
  ["strip_prefix('mail.example.org', 'mail.')", 'example.org'], ["strip_prefix('x.org', 'mail.')", ''],
  ["strip_suffix('example.org', '.org')", 'example'], ["strip_suffix('example.org', '.com')", ''],
  ["split('a,b,,c', ',')", ['a', 'b', '', 'c']], ["rsplit('a.b.c', '.')", ['c', 'b', 'a']],
  ["split_once('a=b=c', '=')", ['a', 'b=c']], ["rsplit_once('a=b=c', '=')", ['a=b', 'c']], ["split_once('abc', '=')", ''],
  ["split_n('a.b.c.d', '.', 2)", ['a', 'b', 'c.d']], ["split_n('a', '.', 3)", ['a']],
  ["split_words('Hello, big  world 42')", ['big', 'world', '42']],
  ["hash('abc', 'md5')", '900150983cd24fb0d6963f7d28e17f72'], ["hash('abc', 'sha1')", 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ["hash('abc', 'sha256')", 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ["len(hash('abc', 'sha512'))", 128], ["hash('abc', 'crc32')", ''],
  ["if_then(starts_with('mail.example', 'mail.'), 'a', 'b')", 'a'], ["if_then(1 > 2, 'a', 'b')", 'b'],
  // matches: regex search, captures
  ["matches('^mail\\\\.', 'mail.example')", 1], ["matches('^mail\\\\.', 'example')", 0], ["matches('(?i)^MAIL', 'mail')", 1],
  ["matches('^(\\\\w+)\\\\.(\\\\w+)$', 'foo.bar') && $2 == 'bar'", 1], ["matches('(x)', 'abc') || $1 == ''", 1],
  ["if_then(matches('^([a-z]+)@', 'jane@example.org'), $1, 'none')", 'jane'], ['$1', ''],
  // conversions of numbers to text
  ["'' + 1.25", '1.25'], ["'' + 10", '10'], ["'' + -3", '-3'],
  // whitespace: space, CR, LF, TAB
  ['1\r\n+\t2', 3],
];

describe('expression table', () => {
  it('has every listed function covered', () => {
    const functions = ['count', 'sort', 'dedup', 'is_empty', 'is_number', 'is_email', 'email_part', 'is_ip_addr', 'is_ipv4_addr', 'is_ipv6_addr',
      'is_ip_in_cidr', 'trim', 'trim_start', 'trim_end', 'len', 'to_lowercase', 'to_uppercase', 'contains', 'contains_ignore_case',
      'eq_ignore_case', 'starts_with', 'ends_with', 'lines', 'substring', 'strip_prefix', 'strip_suffix', 'split', 'rsplit', 'split_once',
      'rsplit_once', 'split_n', 'split_words', 'hash', 'if_then', 'matches', 'is_local_domain', 'system'];
    for (const f of functions) assert.ok(TABLE.some(([src]) => src.includes(`${f}(`)), `table lacks ${f}`);
  });
  for (const [src, want] of TABLE) {
    if (src.includes('no_value_marker')) continue;
    it(`${src} → ${JSON.stringify(want)}`, () => assert.deepEqual(ev(src), want));
  }
  it('short-circuits && and || (the right side never runs)', () => {
    let calls = 0;
    const counting: ExprContext = { ...ctx, host: { system: () => { calls++; return 'x'; }, isLocalDomain: () => false } };
    assert.equal(compileExpression("0 && system('domain')", counting).evaluate({}), 0);
    assert.equal(compileExpression("1 || system('domain')", counting).evaluate({}), 1);
    assert.equal(calls, 0);
    assert.equal(compileExpression("1 && system('domain')", counting).evaluate({}), 1);
    assert.equal(calls, 1);
  });
  it('evaluates a compiled expression many times with different variables', () => {
    const c = compileExpression("if_then(ends_with(rcpt_domain, '.gov'), 'hourly', 'daily')", ctx);
    assert.equal(c.evaluate({ rcpt_domain: 'a.gov' }), 'hourly');
    assert.equal(c.evaluate({ rcpt_domain: 'a.org' }), 'daily');
    assert.equal(c.evaluate({}), 'daily');
    assert.equal(c.isStatic, false);
    assert.equal(compileExpression("'a' + to_uppercase('b')", ctx).isStatic, true);
  });
});

/** [expression, position, message fragment] */
const ERRORS: [string, number, RegExp][] = [
  ['(1 + 2', 6, /expected '\)' at position 6/],
  ['no_such_function(1)', 0, /unknown function no_such_function at position 0/],
  ['1 + foo', 4, /variable foo is not allowed here/],
  ['example.com', 0, /variable example\.com is not allowed here.*quotes/],
  ['system(', 7, /expected a value at position 7/],
  ["system('nope')", 7, /expected one of 'domain', 'hostname', 'node_id'/],
  ["'abc", 4, /unterminated string/],
  ['1 +', 3, /expected a value at position 3/],
  ['1 2', 2, /unexpected number 2 at position 2/],
  ['1)', 1, /unmatched '\)' at position 1/],
  ['[1, 2', 5, /expected ',' or '\]' at position 5/],
  ['rcpt_domain[]', 12, /expected an index at position 12/],
  ['2x', 1, /unknown duration unit 'x'/],
  ['1 # 2', 2, /unexpected character '#' at position 2/],
  ["substring('a', 1)", 0, /expects 3 arguments, got 2/],
  ["len('a', 'b')", 0, /expects 1 argument, got 2/],
  ["matches(rcpt_domain, 'x')", 8, /regular expression in quotes at position 8/],
  ["matches('(', rcpt_domain)", 8, /invalid regular expression at position 8/],
  ['', 0, /empty expression/],
  ['trim', 0, /variable trim is not allowed here/],
  ['(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))', 64, /nested too deeply/],
];

describe('expression errors carry the position and what was expected', () => {
  for (const [src, pos, re] of ERRORS) {
    it(`${JSON.stringify(src)} → position ${pos}`, () => {
      assert.throws(() => compileExpression(src, ctx), (e: unknown) => {
        assert.ok(e instanceof ExprError, `not an ExprError: ${e}`);
        assert.match(e.message, re);
        assert.equal(e.position, pos, e.message);
        return true;
      });
    });
  }
  it('allows a variable only where the field context lists it', () => {
    const subjectOnly: ExprContext = { variables: ['rcpt_domain'] };
    assert.throws(() => compileExpression('report_id', subjectOnly), /variable report_id is not allowed here/);
    assert.throws(() => compileExpression('daily', subjectOnly), /variable daily is not allowed here/);
    assert.equal(compileExpression('rcpt_domain', subjectOnly).evaluate({ rcpt_domain: 'x' }), 'x');
  });
  it('refuses sources beyond the length limit', () => {
    assert.throws(() => compileExpression('1+'.repeat(10000) + '1', ctx), /too long/);
  });
});

describe('variables', () => {
  it('never leak values that are not of the language', () => {
    const c = compileExpression('toString + constructor + __proto__', { variables: ['toString', 'constructor', '__proto__'] });
    assert.equal(c.evaluate({}), '');
    assert.equal(c.evaluate({ toString: 'a' } as never), 'a');
    assert.equal(compileExpression('x', { variables: ['x'] }).evaluate({ x: null as never }), '');
  });
});

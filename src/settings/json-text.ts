/**
 * @module settings/json-text — JSON.parse with errors a person can act on: Node 20's messages
 * often have no position at all (`Unexpected token '}', "{"a": }" is not valid JSON`), so on a
 * failure a small scanner finds where the text stops being JSON and says so as line:column.
 */

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(readonly line: number, readonly column: number, readonly detail: string) {
    super(`line ${line}, column ${column}: ${detail}`);
  }
}

/** Parses JSON text; throws JsonSyntaxError with line and column (1-based) on bad input. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const { offset, detail } = locateJsonError(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    throw new JsonSyntaxError(line, column, detail);
  }
}

/** Where and why `text` is not JSON (RFC 8259 grammar). */
export function locateJsonError(text: string): { offset: number; detail: string } {
  let i = 0;
  class Stop extends Error {
    constructor(readonly at: number, readonly why: string) { super(why); }
  }
  const fail = (why: string): never => {
    throw new Stop(i, i >= text.length ? `${why}, but the text ends here` : `${why}, found ${JSON.stringify(text[i])}`);
  };
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++; };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('expected a value (a string, number, object, list, true, false or null)');
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('control character inside a string (write it as \\n, \\t …)');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('expected 4 hex digits after \\u');
          i += 5;
        } else if (i < text.length && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail('unknown escape in a string');
      } else i++;
    }
    if (i >= text.length) fail('a string is not closed with "');
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail('expected a number');
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? 'a comma before } is not allowed in JSON' : 'expected a key in double quotes');
        string(); ws();
        if (text[i] !== ':') fail("expected ':' after the key");
        i++;
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail("expected ',' or '}' after a value (a missing comma?)");
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        ws();
        if (text[i] === ']') fail('a comma before ] is not allowed in JSON');
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail("expected ',' or ']' after a value (a missing comma?)");
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === "'") fail('strings need double quotes in JSON');
    fail('expected a value (a string, number, object, list, true, false or null)');
  };
  try {
    value(); ws();
    if (i < text.length) fail('expected the end of the text after the value');
    return { offset: Math.min(i, text.length), detail: 'not valid JSON' };
  } catch (e) {
    if (e instanceof Stop) return { offset: e.at, detail: e.why };
    throw e;
  }
}

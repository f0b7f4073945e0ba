/**
 * Issue 10 item 7: a generated admin token never reaches a log. On a terminal it is printed
 * there; otherwise (systemd, containers: stderr is the journal) it is written to a 0600 file
 * next to the database and only the file's path is logged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { setupAdminAuth } from '../../src/http/auth.js';
import { openStore } from '../../src/store/index.js';

describe('generated admin token without a terminal', () => {
  it('goes to a 0600 file next to the database; the log names the file, not the token', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-token-'));
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
    const stderr: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((c: string) => { stderr.push(String(c)); return true; }) as typeof process.stderr.write;
    const store = await openStore({ sqlite: path.join(dir, 'db.sqlite') });
    try {
      const tokenFile = path.join(dir, 'admin-token');
      // A file planted in its place beforehand is replaced, not written through.
      writeFileSync(path.join(dir, 'elsewhere'), 'x');
      symlinkSync(path.join(dir, 'elsewhere'), tokenFile);
      const auth = await setupAdminAuth({ store, log, tokenFile, isTerminal: false });
      process.stderr.write = write;
      const token = readFileSync(tokenFile, 'utf8').trim();
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.equal(readFileSync(path.join(dir, 'elsewhere'), 'utf8'), 'x');
      assert.ok(auth.verify(token));
      assert.ok(token.length >= 40);
      assert.equal(stderr.join('').includes(token), false, 'not on stderr');
      assert.equal(lines.join('').includes(token), false, 'not in the log');
      assert.match(lines.join(''), new RegExp(tokenFile.replace(/[/.]/g, '\\$&')));
    } finally {
      process.stderr.write = write;
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

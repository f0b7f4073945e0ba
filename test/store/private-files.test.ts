/**
 * Issue 10 item 8: the data folder and the SQLite files (database, -wal, -shm) hold raw reports
 * and mail headers, so only the service's user may read them; a DKIM key others can read is warned about.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import { loadDkimKeys } from '../../src/sending/deliver/mail.js';

const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);

describe('private data files', () => {
  it('creates the data folder 0700 and the database, -wal and -shm 0600 (under umask 022)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tlsrpt-private-'));
    const old = process.umask(0o022);
    try {
      const file = path.join(root, 'data', 'db.sqlite');
      const store = await openStore({ sqlite: file });
      await store.db.insertInto('settings' as never).values({} as never).execute().catch(() => {});
      assert.equal(mode(path.join(root, 'data')), '700');
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        assert.ok(existsSync(f), f);
        assert.equal(mode(f), '600', f);
      }
      await store.close();
      // An existing world-readable database (an older version's) is narrowed on open.
      chmodSync(file, 0o644);
      const again = await openStore({ sqlite: file });
      assert.equal(mode(file), '600');
      await again.close();
    } finally {
      process.umask(old);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('warns when a DKIM private key file is group or world readable', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tlsrpt-dkim-'));
    try {
      const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const file = path.join(root, 'dkim.pem');
      writeFileSync(file, pem, { mode: 0o644 });
      chmodSync(file, 0o644);
      const warned: string[] = [];
      loadDkimKeys([{ domain: 'example.org', selector: 's', privateKeyFile: file }], (f, m) => warned.push(`${f} ${m}`));
      assert.deepEqual(warned, [`${file} 0644`]);
      chmodSync(file, 0o600);
      warned.length = 0;
      loadDkimKeys([{ domain: 'example.org', selector: 's', privateKeyFile: file }], (f, m) => warned.push(`${f} ${m}`));
      assert.deepEqual(warned, []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

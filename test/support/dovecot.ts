/**
 * @module test/support/dovecot — a real Dovecot IMAP server for tests, started from a scratch
 * folder with its own configuration (docs/spec/stack.md): plaintext auth on 127.0.0.1, a passwd-file of
 * test users, maildirs owned by the `mail` user, `/` as hierarchy separator. Needs the
 * `dovecot-imapd` package (`scripts/setup --test`) and root (Dovecot switches to uid `mail`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

export interface TestDovecot {
  host: string;
  port: number;
  users: Record<string, string>;
  /** The maildir of a user (for checks that bypass IMAP). */
  maildir(user: string): string;
  /** The server's log so far (for failing tests). */
  log(): string;
  stop(): Promise<void>;
}

const DOVECOT = '/usr/sbin/dovecot';

/**
 * @example
 * const dovecot = await startDovecot({ users: { reports: 'secret' } });
 * const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: 'reports', pass: 'secret' } });
 */
export async function startDovecot(opts: { users?: Record<string, string> } = {}): Promise<TestDovecot> {
  if (!existsSync(DOVECOT)) throw new Error('Dovecot is not installed: run scripts/setup --test (installs dovecot-imapd)');
  if (userInfo().uid !== 0) throw new Error('the Dovecot test server needs root (it switches to the mail user)');
  const users = opts.users ?? { reports: 'secret' };
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-dovecot-'));
  chmodSync(dir, 0o755);
  const sub = (name: string) => path.join(dir, name);
  for (const d of ['run', 'state', 'mail', 'home']) mkdirSync(sub(d), { recursive: true });
  const mail = mailIds();
  chownSync(sub('mail'), mail.uid, mail.gid);
  chownSync(sub('home'), mail.uid, mail.gid);
  writeFileSync(sub('passwd'), Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}::::::\n`).join(''));
  const port = await freePort();
  writeFileSync(sub('dovecot.conf'), `
protocols = imap
listen = 127.0.0.1
base_dir = ${sub('run')}
state_dir = ${sub('state')}
log_path = ${sub('log')}
info_log_path = ${sub('log')}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${sub('mail')}/%u
mail_uid = mail
mail_gid = mail
first_valid_uid = ${mail.uid}
first_valid_gid = ${mail.gid}
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${sub('passwd')}
}
userdb {
  driver = static
  args = uid=mail gid=mail home=${sub('home')}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`);
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', sub('dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const readLog = () => {
    try {
      return output + readFileSync(sub('log'), 'utf8');
    } catch {
      return output;
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = readLog();
      await stop();
      throw new Error(`Dovecot exited at start (code ${child.exitCode}): ${log.slice(-2000)}`);
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      const log = readLog();
      await stop();
      throw new Error(`Dovecot did not listen on 127.0.0.1:${port} within 15 s: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: '127.0.0.1',
    port,
    users,
    maildir: (user) => path.join(sub('mail'), user),
    log: readLog,
    stop,
  };
}

function mailIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('mail:'));
  if (!line) throw new Error('no "mail" user in /etc/passwd (Dovecot test server runs mail as that user)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

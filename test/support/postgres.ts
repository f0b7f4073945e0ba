/**
 * @module test/support/postgres — a throwaway PostgreSQL 15 cluster for tests: initdb + pg_ctl in
 * a temp folder (as user `postgres` when we run as root, since initdb refuses root), trust auth,
 * fsync off, listening on 127.0.0.1 on a free port with its unix socket in the temp folder.
 *
 * `scripts/run-tests.mjs` starts ONE cluster per test run and passes its URL in TLSRPT_TEST_PG;
 * a test file run alone starts its own on first use (`testPostgresUrl()`), stopped at exit.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PG_BIN = process.env.TLSRPT_PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const TEST_PG_ENV = 'TLSRPT_TEST_PG';

export interface PostgresCluster {
  /** Superuser URL of the `postgres` database: `postgres://postgres@127.0.0.1:PORT/postgres`. */
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
  /** Synchronous stop for process 'exit' handlers. */
  stopSync(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** argv that runs a PostgreSQL binary as the cluster owner (root → `runuser -u postgres --`). */
function asOwner(bin: string, args: string[]): [string, string[]] {
  const exe = path.join(PG_BIN, bin);
  if (process.getuid?.() === 0) return ['runuser', ['-u', 'postgres', '--', exe, ...args]];
  return [exe, args];
}

function describeFailure(e: unknown, logFile?: string): string {
  const err = e as { message?: string; stderr?: string };
  let log = '';
  if (logFile && existsSync(logFile)) log = readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n');
  return [err.stderr?.trim() || err.message || String(e), log && `server log:\n${log}`].filter(Boolean).join('\n');
}

/** Starts a fresh cluster; throws with the reason (missing binaries, initdb or start failure). */
export async function startPostgres(): Promise<PostgresCluster> {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) {
    throw new Error(`PostgreSQL 15 server binaries not found in ${PG_BIN} (apt-get install postgresql-15, or set TLSRPT_PG_BIN)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-pg-'));
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'log');
  try {
    const [cmd, args] = asOwner('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    await run(cmd, args, { timeout: 60_000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${describeFailure(e)}`);
  }
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    try {
      const [cmd, args] = asOwner('pg_ctl', ['-D', data, '-l', logFile, '-o', opts, '-w', '-t', '60', 'start']);
      await run(cmd, args, { timeout: 90_000 });
    } catch (e) {
      lastError = describeFailure(e, logFile);
      continue; // most likely the port was taken between probe and start
    }
    const stopArgs = asOwner('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    let stopped = false;
    const cleanup = () => rmSync(dir, { recursive: true, force: true });
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      dir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await run(stopArgs[0], stopArgs[1], { timeout: 30_000 }).catch(() => {});
        cleanup();
      },
      stopSync() {
        if (stopped) return;
        stopped = true;
        try {
          execFileSync(stopArgs[0], stopArgs[1], { timeout: 30_000, stdio: 'ignore' });
        } catch {
          /* already gone */
        }
        cleanup();
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`pg_ctl start failed: ${lastError}`);
}

let own: Promise<string> | undefined;

/**
 * The superuser URL of the run's cluster: TLSRPT_TEST_PG when the runner started one, else a
 * cluster of this process's own (started once, stopped when the process exits).
 */
export function testPostgresUrl(): Promise<string> {
  const given = process.env[TEST_PG_ENV];
  if (given) return Promise.resolve(given);
  own ??= startPostgres().then((c) => {
    process.once('exit', () => c.stopSync());
    return c.url;
  });
  return own;
}

/**
 * @module receiving/sources/imap — polls an IMAP mailbox (imapflow) that receives report mail
 * (`imap` config array, one poller per account). Each new message goes through the ingestion
 * pipeline, is flagged (`\Seen` and the keyword `$TLSRPTProcessed`) and moved: stored or
 * duplicate reports to `processedFolder` (default `TLSRPT/Processed`), non-reports and refused
 * ones to `failedFolder` (default `TLSRPT/Failed`). Nothing is deleted unless `deleteProcessed`.
 * Restart-safe: whatever is still in the mailbox without the keyword is new; a message whose
 * storage failed (store down) stays and is retried on the next poll.
 */
import { ImapFlow } from 'imapflow';
import type { ImapAccount } from '../../settings/sections/index.js';
import type { Logger } from '../../common/log.js';
import type { Ingestor, IngestOutcome } from '../pipeline/ingest.js';

/** Keyword that marks a message this poller has dealt with (kept when it cannot be moved). */
export const PROCESSED_KEYWORD = '$TLSRPTProcessed';

/** One `imap` account, defaults filled in (schema: `settings/sections/imap.ts`). */
export type { ImapAccount } from '../../settings/sections/index.js';

export interface ImapPollResult {
  seen: number;
  processed: number;
  failed: number;
  retryLater: number;
}

export interface ImapPoller {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One pass over the mailbox (what the timer does); resolves when it is done. */
  pollOnce(): Promise<ImapPollResult>;
}

export interface ImapPollerOptions {
  account: ImapAccount;
  ingestor: Ingestor;
  log: Logger;
  now?: () => number;
}

/**
 * @example
 * const poller = createImapPoller({ account: config.imap[0], ingestor, log });
 * await poller.start();
 */
export function createImapPoller(opts: ImapPollerOptions): ImapPoller {
  const { account, ingestor } = opts;
  const log = opts.log.child({ channel: 'imap', account: `${account.user}@${account.host}` });
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const attempts = new Map<number, number>();
  let client: ImapFlow | undefined;
  let folders: { processed: string; failed: string } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<ImapPollResult> | undefined;
  let stopped = true;
  let closing = false;

  async function connected(): Promise<ImapFlow> {
    if (client?.usable) return client;
    client?.close();
    folders = undefined;
    const c = new ImapFlow({
      host: account.host, port: account.port, secure: account.secure,
      // Without implicit TLS, STARTTLS is required before LOGIN unless allowPlaintextAuth (issue 10).
      ...(!account.secure && !account.allowPlaintextAuth ? { doSTARTTLS: true } : {}),
      auth: { user: account.user, pass: account.password },
      logger: false,
      tls: { rejectUnauthorized: !account.tlsInsecure },
    });
    c.on('error', (e: Error) => log.warn({ err: e.message }, 'imap connection error'));
    await c.connect();
    client = c;
    return c;
  }

  async function ensureFolders(c: ImapFlow): Promise<{ processed: string; failed: string }> {
    if (folders) return folders;
    const create = async (name: string) => (await c.mailboxCreate(name.split('/'))).path;
    folders = { processed: await create(account.processedFolder), failed: await create(account.failedFolder) };
    return folders;
  }

  async function pass(): Promise<ImapPollResult> {
    const result: ImapPollResult = { seen: 0, processed: 0, failed: 0, retryLater: 0 };
    const c = await connected();
    const dest = await ensureFolders(c);
    const lock = await c.getMailboxLock(account.mailbox);
    try {
      // A mailbox kept selected between polls learns of new mail only after a command that lets the server say so.
      await c.noop();
      const uids = (await c.search({ unKeyword: PROCESSED_KEYWORD }, { uid: true })) || [];
      for (const uid of uids) {
        if (closing) break; // stop() waits for the message in hand, not for the whole mailbox
        result.seen++;
        const verdict = await processMessage(c, uid);
        if (verdict === 'retry') {
          result.retryLater++;
          continue;
        }
        await c.messageFlagsAdd(String(uid), ['\\Seen', PROCESSED_KEYWORD], { uid: true });
        if (verdict === 'processed') {
          result.processed++;
          if (account.deleteProcessed) await c.messageDelete(String(uid), { uid: true });
          else await c.messageMove(String(uid), dest.processed, { uid: true });
        } else {
          result.failed++;
          await c.messageMove(String(uid), dest.failed, { uid: true });
        }
        attempts.delete(uid);
      }
    } finally {
      lock.release();
    }
    return result;
  }

  async function processMessage(c: ImapFlow, uid: number): Promise<'processed' | 'failed' | 'retry'> {
    const info = await c.fetchOne(String(uid), { uid: true, size: true }, { uid: true });
    if (!info) return 'retry';
    const source = `imap ${account.mailbox} uid ${uid}`;
    if ((info.size ?? 0) > account.maxMessageBytes) {
      log.info({ uid, size: info.size, limit: account.maxMessageBytes }, 'imap: message too large, moved to the failed folder');
      return 'failed';
    }
    const msg = await c.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
    if (!msg || !msg.source) return 'retry';
    const outcomes: IngestOutcome[] = await ingestor.ingest(msg.source, {
      channel: 'imap', peer: `${account.user}@${account.host}`, receivedAt: now(), source,
    });
    if (outcomes.some((o) => o.status === 'failed')) {
      const n = (attempts.get(uid) ?? 0) + 1;
      attempts.set(uid, n);
      if (n < account.maxAttempts) return 'retry';
      log.warn({ uid, attempts: n }, 'imap: storing kept failing; moved to the failed folder');
      return 'failed';
    }
    return outcomes.some((o) => o.status === 'imported' || o.status === 'duplicate') ? 'processed' : 'failed';
  }

  const pollOnce = (): Promise<ImapPollResult> => {
    running ??= pass()
      .catch((e) => {
        log.warn({ err: (e as Error).message }, 'imap poll failed; retrying at the next poll');
        client?.close();
        client = undefined;
        return { seen: 0, processed: 0, failed: 0, retryLater: 0 };
      })
      .finally(() => { running = undefined; });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      pollOnce().finally(schedule);
    }, account.pollSeconds * 1000);
    timer.unref?.();
  };

  return {
    async start() {
      stopped = false;
      closing = false;
      // The first pass runs in the background: an unreachable server must not stop the service starting.
      void pollOnce().finally(schedule);
    },
    async stop() {
      stopped = true;
      closing = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
      await client?.logout().catch(() => client?.close());
      client = undefined;
    },
    pollOnce,
  };
}

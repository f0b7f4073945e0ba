/**
 * @module test/receiving/support/channels — each receiving channel started for real on
 * loopback around one ingestor, with one way to deliver an input through it: HTTP POST to the
 * report endpoint, SMTP and LMTP to the listener (nodemailer client), IMAP (APPEND to a real
 * Dovecot, then one poll), and file import (written to a folder, then `importPaths`).
 * A recording wrapper lets tests see the pipeline's outcome of every delivery.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import PostalMime from 'postal-mime';
import { createApp } from '../../../src/http/app.js';
import { listen } from '../../../src/http/server.js';
import { reportEndpointRoutes } from '../../../src/http/routes/report-endpoint.js';
import type { Ingestor, IngestOutcome } from '../../../src/receiving/pipeline/ingest.js';
import { createSmtpListener } from '../../../src/receiving/sources/smtp.js';
import { createImapPoller } from '../../../src/receiving/sources/imap.js';
import { ImapAccountSection as ImapAccountConfig } from '../../../src/settings/sections/index.js';
import { importPaths } from '../../../src/receiving/sources/import.js';
import { silentLog } from '../../../src/common/log.js';
import type { TestDovecot } from '../../support/dovecot.js';
import { buildReportMail } from './report-mail.js';

export type ChannelName = 'http' | 'smtp' | 'lmtp' | 'imap' | 'file';
export const CHANNELS: readonly ChannelName[] = ['http', 'smtp', 'lmtp', 'imap', 'file'];

/** One thing to deliver: report JSON (wrapped in a report e-mail for mail channels), an e-mail, or raw bytes as they are. */
export type Delivery = { name: string; json: Buffer } | { name: string; email: Buffer } | { name: string; raw: Buffer };

export interface Channel {
  name: ChannelName;
  /** Delivers the inputs one by one; resolves when the channel has handed each to the pipeline. */
  deliver(items: Delivery[]): Promise<void>;
  /** What the channel told the sender (HTTP status, SMTP reply), per delivery, when it has a reply. */
  replies: { name: string; reply: string }[];
  close(): Promise<void>;
}

export interface Recorded { ingestor: Ingestor; outcomes: IngestOutcome[][] }

export function recording(inner: Ingestor): Recorded {
  const outcomes: IngestOutcome[][] = [];
  return { outcomes, ingestor: { ingest: async (b, m) => { const o = await inner.ingest(b, m); outcomes.push(o); return o; } } };
}

/** The report payload of an e-mail (first report attachment), for channels that carry bare reports. */
export async function attachmentOf(email: Buffer): Promise<Buffer> {
  const parsed = await PostalMime.parse(email);
  const att = parsed.attachments.find((a) => /tlsrpt|gzip|json|zip|octet/.test(a.mimeType));
  if (!att) throw new Error('no report attachment');
  return Buffer.from(att.content as ArrayBuffer);
}

function asEmail(d: Delivery): Buffer {
  if ('email' in d) return d.email;
  if ('raw' in d) return d.raw;
  const report = JSON.parse(d.json.toString('utf8')) as { policies?: { policy?: { 'policy-domain'?: string } }[]; 'contact-info'?: string };
  const policyDomain = report.policies?.[0]?.policy?.['policy-domain'] || 'example.com';
  const submitter = (report['contact-info'] ?? '').split('@')[1]?.replace(/[^a-z0-9.-].*$/i, '') || 'reporter.example';
  return buildReportMail({ reportJson: d.json, policyDomain, submitter });
}

async function asHttpBody(d: Delivery): Promise<Buffer> {
  if ('json' in d) return gzipSync(d.json);
  if ('raw' in d) return d.raw;
  return attachmentOf(d.email);
}

export async function openChannel(name: ChannelName, ingestor: Ingestor, opts: { dovecot?: TestDovecot; imapUser?: string } = {}): Promise<Channel> {
  const replies: { name: string; reply: string }[] = [];
  switch (name) {
    case 'http': {
      const app = createApp();
      app.route('/', reportEndpointRoutes({ ingestor, log: silentLog, maxBodyBytes: 30_000_000, ratePerMinute: 100_000 }));
      const server = await listen(app, '127.0.0.1', 0);
      return {
        name, replies,
        async deliver(items) {
          for (const d of items) {
            const res = await fetch(`http://127.0.0.1:${server.port}/tlsrpt`, { method: 'POST', headers: { 'content-type': 'application/tlsrpt+gzip' }, body: new Uint8Array(await asHttpBody(d)) });
            replies.push({ name: d.name, reply: `${res.status} ${await res.text()}` });
          }
        },
        close: () => server.close(),
      };
    }
    case 'smtp':
    case 'lmtp': {
      const listener = createSmtpListener({ host: '127.0.0.1', port: 0, lmtp: name === 'lmtp', ingestor, log: silentLog, inbound: () => ({ addresses: ['postmaster@*', '*@reports.example.org'], forwarding: false }) });
      await listener.start();
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true, lmtp: name === 'lmtp' } as never);
      return {
        name, replies,
        async deliver(items) {
          for (const d of items) {
            try {
              const info = await transport.sendMail({ envelope: { from: 'reporter@sender.example', to: ['postmaster@example.com'] }, raw: asEmail(d) });
              replies.push({ name: d.name, reply: String(info.response) });
            } catch (e) {
              replies.push({ name: d.name, reply: `error ${(e as { responseCode?: number }).responseCode ?? ''} ${(e as Error).message}` });
            }
          }
        },
        close: async () => { transport.close(); await listener.stop(); },
      };
    }
    case 'imap': {
      const dovecot = opts.dovecot;
      if (!dovecot) throw new Error('the imap channel needs a Dovecot');
      const user = opts.imapUser ?? Object.keys(dovecot.users)[0];
      const account = ImapAccountConfig.parse({ host: dovecot.host, port: dovecot.port, secure: false, allowPlaintextAuth: true, user, password: dovecot.users[user], pollSeconds: 3600 });
      const poller = createImapPoller({ account, ingestor, log: silentLog });
      const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user, pass: dovecot.users[user] }, logger: false });
      await client.connect();
      return {
        name, replies,
        async deliver(items) {
          for (const d of items) await client.append('INBOX', asEmail(d));
          const r = await poller.pollOnce();
          replies.push({ name: 'poll', reply: JSON.stringify(r) });
        },
        close: async () => { await client.logout(); await poller.stop(); },
      };
    }
    case 'file': {
      const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-import-'));
      let n = 0;
      return {
        name, replies,
        async deliver(items) {
          const batch = path.join(dir, String(++n));
          const { mkdirSync } = await import('node:fs');
          mkdirSync(batch);
          items.forEach((d, i) => writeFileSync(path.join(batch, `${String(i).padStart(4, '0')}-${d.name}`), 'json' in d ? d.json : 'email' in d ? d.email : d.raw));
          const summary = await importPaths([batch], { ingestor, maxInputBytes: 50 * 1024 * 1024, concurrency: 1 });
          replies.push({ name: 'import', reply: JSON.stringify(summary.counts) });
        },
        close: async () => rmSync(dir, { recursive: true, force: true }),
      };
    }
  }
}

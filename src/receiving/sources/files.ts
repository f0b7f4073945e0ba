/**
 * @module receiving/sources/files — the inputs of `tlsrpt import`: files, folders (recursive),
 * maildirs (`cur/` and `new/`, Maildir++ sub-folders; `tmp/` holds unfinished deliveries and
 * is skipped) and mbox files (split on `From ` lines, mboxrd `>From ` unescaped). Streaming:
 * folders are read entry by entry and mbox files line by line, so memory stays flat in the
 * number and size of inputs (one message at a time, each at most `maxInputBytes`).
 * Single files are read with synchronous calls on one descriptor (open, fstat, read): for
 * thousands of small local files that is several times faster than a thread-pool round trip
 * per call, and this module only serves the `import` command, which has nothing else to do.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { opendir } from 'node:fs/promises';
import path from 'node:path';

export type ImportInput =
  | { kind: 'input'; bytes: Uint8Array; source: string }
  /** Something that could not be read or is over the size limit: counted, never fatal. */
  | { kind: 'problem'; source: string; status: 'rejected' | 'failed'; code: string; reason: string };

export interface WalkOptions {
  /** Largest single input (file or mbox message) read; larger ones become a 'too-large' problem. */
  maxInputBytes: number;
}

/**
 * @example
 * for await (const item of walkInputs(['reports/', 'archive.mbox'], { maxInputBytes: 50e6 })) …
 */
export async function* walkInputs(paths: readonly string[], opts: WalkOptions): AsyncGenerator<ImportInput> {
  for (const p of paths) yield* walkPath(p, opts);
}

/** Counts what `walkInputs` will visit (files, not mbox messages) without reading them: for a progress bar. */
export async function countFiles(paths: readonly string[]): Promise<number> {
  let n = 0;
  const visit = async (p: string): Promise<void> => {
    let st;
    try {
      st = statSync(p);
    } catch {
      n++;
      return;
    }
    if (st.isFile()) n++;
    else if (st.isDirectory()) for await (const child of folderEntries(p)) await visit(child);
  };
  for (const p of paths) await visit(p);
  return n;
}

async function* walkPath(p: string, opts: WalkOptions): AsyncGenerator<ImportInput> {
  let isDir: boolean;
  try {
    isDir = statSync(p).isDirectory();
  } catch (e) {
    yield { kind: 'problem', source: p, status: 'failed', code: 'unreadable', reason: `cannot read ${p}: ${(e as Error).message}` };
    return;
  }
  if (isDir) {
    for await (const child of folderEntries(p)) yield* walkPath(child, opts);
    return;
  }
  const read = readSmallFile(p, opts.maxInputBytes);
  if (read === 'mbox') yield* readMbox(p, opts);
  else if (read) yield read;
}

/** One regular file as an input, a problem, 'mbox' (to be streamed), or undefined (not a regular file). */
function readSmallFile(file: string, max: number): ImportInput | 'mbox' | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const head = Buffer.alloc(5);
    if (readSync(fd, head, 0, 5, 0) === 5 && head.toString('latin1') === 'From ') return 'mbox';
    if (st.size > max) return { kind: 'problem', source: file, status: 'rejected', code: 'too-large', reason: `${file} has ${st.size} bytes, more than the limit of ${max}` };
    const bytes = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, bytes, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return { kind: 'input', bytes: bytes.subarray(0, got), source: file };
  } catch (e) {
    return { kind: 'problem', source: file, status: 'failed', code: 'unreadable', reason: `cannot read ${file}: ${(e as Error).message}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The entries of a folder to visit, sorted (stable order, reproducible counts). A maildir
 * (has `cur` and `new`) yields only `new`, `cur` and its Maildir++ sub-folders (`.Name`);
 * hidden files (Dovecot indexes, `.DS_Store`) are skipped everywhere.
 */
async function* folderEntries(dir: string): AsyncGenerator<string> {
  const names: { name: string; isDir: boolean }[] = [];
  // Names only (not contents) are held per folder: a flat maildir of 100,000 mails is ~10 MB of names at most.
  for await (const d of await opendir(dir)) names.push({ name: d.name, isDir: d.isDirectory() });
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const isMaildir = names.some((n) => n.isDir && n.name === 'cur') && names.some((n) => n.isDir && n.name === 'new');
  for (const { name, isDir } of names) {
    if (isMaildir) {
      if (isDir && (name === 'cur' || name === 'new' || (name.startsWith('.') && name !== '.' && name !== '..'))) yield path.join(dir, name);
      continue;
    }
    if (name.startsWith('.')) continue;
    yield path.join(dir, name);
  }
}

const FROM_LINE = Buffer.from('From ');

/** Splits an mbox into messages, streaming; a message over the limit becomes a problem, not a buffer. */
async function* readMbox(file: string, opts: WalkOptions): AsyncGenerator<ImportInput> {
  let lines: Buffer[] = [];
  let size = 0;
  let over = false;
  let index = 0;
  let previousBlank = true;
  let pending = Buffer.alloc(0);

  const finish = (): ImportInput | undefined => {
    if (!index) return undefined;
    const source = `${file} message ${index}`;
    if (over) return { kind: 'problem', source, status: 'rejected', code: 'too-large', reason: `${source} has more than ${opts.maxInputBytes} bytes` };
    // The blank line before the next "From " belongs to the mbox, not to the message.
    const lastLine = lines.at(-1);
    if (lastLine && isBlank(lastLine)) lines.pop();
    return { kind: 'input', bytes: Buffer.concat(lines), source };
  };

  const onLine = (line: Buffer): ImportInput | undefined => {
    let out: ImportInput | undefined;
    if (previousBlank && line.subarray(0, 5).equals(FROM_LINE)) {
      out = finish();
      index++;
      lines = [];
      size = 0;
      over = false;
      previousBlank = false;
      return out;
    }
    previousBlank = isBlank(line);
    if (!index || over) return undefined;
    // mboxrd: one level of ">" quoting was added in front of every ">*From " line.
    if (line[0] === 0x3e && /^>+From /.test(line.subarray(0, 64).toString('latin1'))) line = line.subarray(1);
    size += line.length;
    if (size > opts.maxInputBytes) {
      over = true;
      lines = [];
      return undefined;
    }
    lines.push(line);
    return undefined;
  };

  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
      let data = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
        // Lines are copied out of the chunk so a kept message does not pin the whole 256 KiB read buffer.
        const out = onLine(Buffer.from(data.subarray(start, nl + 1)));
        start = nl + 1;
        if (out) yield out;
      }
      pending = Buffer.from(data.subarray(start));
      data = Buffer.alloc(0);
      if (pending.length > opts.maxInputBytes + 1) {
        // A single endless line: treat it as part of an oversized message.
        over = true;
        lines = [];
        pending = Buffer.alloc(0);
      }
    }
    if (pending.length) {
      const out = onLine(pending);
      if (out) yield out;
    }
    const last = finish();
    if (last) yield last;
  } catch (e) {
    yield { kind: 'problem', source: file, status: 'failed', code: 'unreadable', reason: `cannot read ${file}: ${(e as Error).message}` };
  }
}

function isBlank(line: Buffer): boolean {
  return line.length === 0 || (line.length === 1 && line[0] === 0x0a) || (line.length === 2 && line[0] === 0x0d && line[1] === 0x0a);
}

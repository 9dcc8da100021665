// Writes the flusher's document files on a worker thread, with synchronous file calls.
//
// Through fs/promises each file costs four calls to libuv's thread pool (open, write, close,
// rename), and each answer waits for the main thread's event loop, which under load is busy with
// turns: the flusher then wrote about 1,500 files a second, fell behind, and held writers back for
// up to 1.7 s. It also took pool threads from the journal's appends. On its own thread the same
// writes run back to back, cost the main thread one message per round, and leave the pool to the
// journal and the reads. A new directory's entry is fsynced at once; the files are not (a
// checkpoint fsyncs them before it cuts the journal).
//
// A file is overwritten in place (opened without O_TRUNC, written from the start, cut to its new
// length), not replaced by a temp file and a rename as lowdb's TextFileSync does. Each temp file is
// a new inode, and creating a file cost 300-900 µs of system CPU on one benchmark machine's ext4
// (20-30 µs on another: bench/findings.md), against 15 µs to overwrite one in place (truncating on
// open: about 100 µs, as ext4 then writes the new blocks out early, auto_da_alloc). A new
// document's first file still has to be created. What the rename bought is not needed: nothing
// reads a document's file while its version is being written (reads take unflushed versions from
// memory), and a file torn by a crash holds a version that is still in the journal, which recovery
// compares whole against each file and writes again.
//
// A pack (packFile.ts) is appended to instead, so a new document in it creates no file; a failed
// append is cut back off, and a pack grown mostly stale is rewritten here, durably, keeping each
// document's last line.

import { Worker } from 'node:worker_threads';

/**
 * One file to replace with `text` (whole, or its parts one after the other), or to remove (null);
 * with `append`, a pack (packFile.ts) to add `text` to the end of.
 */
export interface FileWrite {
  path: string;
  text: string | readonly string[] | null;
  append?: boolean;
}

/** A pack is checked for stale lines once it reaches this size, then each time it doubles. */
export const PACK_COMPACT_BYTES = 16 * 1024;

// The worker's code, plain JavaScript with Node's own modules only: a worker gets neither the
// TypeScript loader (tsx) that runs the rest of the store nor a way to resolve its packages.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const COMPACT_BYTES = workerData.compactBytes;
const fs = require('node:fs');
const path = require('node:path');

function fsyncDir(dir) {
  if (process.platform === 'win32') return; // NTFS journals its directory entries itself
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

function describe(err) {
  if (err && typeof err === 'object' && typeof err.message === 'string') return err.message;
  return String(err);
}

// In place, without O_TRUNC (see the comment at the top of fileWriter.ts).
const OPEN_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT;
function replace(file, data, start, end) {
  const length = end - start;
  const fd = fs.openSync(file, OPEN_FLAGS, 0o666);
  try {
    let done = 0;
    while (done < length) done += fs.writeSync(fd, data, start + done, length - done, done);
    fs.ftruncateSync(fd, length);
  } finally {
    fs.closeSync(fd);
  }
}

// Appended whole or not at all: a failed write (a full disk) is cut back off, so that the next
// append does not start in the middle of a line. Returns the pack's new size.
const APPEND_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND;
function append(file, data, start, end) {
  const length = end - start;
  const fd = fs.openSync(file, APPEND_FLAGS, 0o666);
  try {
    const size = fs.fstatSync(fd).size;
    let done = 0;
    try {
      while (done < length) done += fs.writeSync(fd, data, start + done, length - done, null);
    } catch (err) {
      try { fs.ftruncateSync(fd, size); } catch {}
      throw err;
    }
    return size + length;
  } finally {
    fs.closeSync(fd);
  }
}

// The size at which each pack is next checked for stale lines (packFile.ts).
const nextCheck = new Map();
function maybeCompact(file, size) {
  if (size < Math.max(COMPACT_BYTES, nextCheck.get(file) ?? 0)) return;
  const text = fs.readFileSync(file, 'utf8');
  // Each id's last line, in the order of the last lines; a deleted id's tombstone goes too.
  const last = new Map();
  let from = 0;
  while (from < text.length) {
    const end = text.indexOf('\\n', from);
    if (end < 0) return; // not a pack this thread wrote whole: leave it to recovery
    const line = text.slice(from, end + 1);
    const parsed = JSON.parse(line);
    last.delete(parsed.id);
    if (parsed.deleted !== true) last.set(parsed.id, line);
    from = end + 1;
  }
  const kept = [...last.values()].join('');
  const keptBytes = Buffer.byteLength(kept, 'utf8');
  nextCheck.set(file, 2 * Math.max(keptBytes, COMPACT_BYTES / 2));
  if (keptBytes * 2 > size) return; // mostly live: not worth a new file yet
  const dir = path.dirname(file);
  if (keptBytes === 0) {
    fs.unlinkSync(file);
  } else {
    // The old lines include versions a checkpoint has dropped from the journal: the copy is made
    // durable before it replaces them.
    const temp = path.join(dir, '.' + path.basename(file) + '.tmp');
    const fd = fs.openSync(temp, 'w', 0o666);
    try {
      fs.writeFileSync(fd, kept);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  }
  fsyncDir(dir);
}

const knownDirs = new Set();
// files: [{ path, end, append }] in order; a file's bytes run from the previous file's end to its
// own in data (end -1: remove the file).
parentPort.on('message', ({ id, files, data }) => {
  const bytes = Buffer.from(data);
  const errors = [];
  let start = 0;
  for (const { path: file, end, append: toEnd } of files) {
    try {
      if (end < 0) {
        try { fs.unlinkSync(file); } catch (err) { if (err.code !== 'ENOENT') throw err; }
      } else {
        const dir = path.dirname(file);
        if (!knownDirs.has(dir)) {
          const created = fs.mkdirSync(dir, { recursive: true });
          if (created !== undefined) fsyncDir(path.dirname(created));
          knownDirs.add(dir);
        }
        const from = start;
        start = end;
        if (!toEnd) replace(file, bytes, from, end);
        else {
          const size = append(file, bytes, from, end);
          // The lines are written: a failed compaction leaves them as they are, for the next one.
          try { maybeCompact(file, size); } catch {}
        }
      }
      errors.push(null);
    } catch (err) {
      if (end >= 0) start = end;
      // The directory may have gone, or been replaced by a file: check it again next time.
      knownDirs.delete(path.dirname(file));
      errors.push(describe(err));
    }
  }
  parentPort.postMessage({ id, errors });
});
`;

/**
 * A round's files as one buffer of their bytes, handed to the thread without a copy, and where
 * each file ends in it. Posting the texts themselves copied each document twice more on the main
 * thread (joining its parts, then cloning the message).
 */
function pack(writes: readonly FileWrite[]): {
  files: { path: string; end: number; append: boolean }[];
  data: ArrayBuffer;
} {
  let size = 0;
  for (const { text } of writes) {
    if (typeof text === 'string') size += Buffer.byteLength(text, 'utf8');
    else if (text !== null) for (const part of text) size += Buffer.byteLength(part, 'utf8');
  }
  // Its own ArrayBuffer (never a slice of Buffer's shared pool), so that it can be transferred.
  const data = Buffer.allocUnsafeSlow(size);
  const files: { path: string; end: number; append: boolean }[] = [];
  let at = 0;
  for (const { path, text, append = false } of writes) {
    if (text === null) {
      files.push({ path, end: -1, append });
      continue;
    }
    if (typeof text === 'string') at += data.write(text, at, 'utf8');
    else for (const part of text) at += data.write(part, at, 'utf8');
    files.push({ path, end: at, append });
  }
  return { files, data: data.buffer as ArrayBuffer };
}

interface Waiting {
  resolve(errors: (string | null)[]): void;
  reject(err: Error): void;
}

/**
 * A worker thread that writes files in order, one round at a time. Started at the first round;
 * if it dies, the rounds in flight fail (the flusher retries them) and the next round starts a
 * new one. It keeps the process alive only while a round is in flight.
 */
export class FileWriter {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private nextId = 0;
  private closed = false;

  /** @param compactBytes the size at which a pack is first checked for stale lines. */
  constructor(private readonly compactBytes = PACK_COMPACT_BYTES) {}

  /** Writes each file; resolves with one entry per write: null if done, else the error's message. */
  write(writes: readonly FileWrite[]): Promise<(string | null)[]> {
    if (this.closed) return Promise.reject(new Error('The file writer is closed'));
    if (writes.length === 0) return Promise.resolve([]);
    const { files, data } = pack(writes);
    const worker = this.start();
    const id = ++this.nextId;
    const round = new Promise<(string | null)[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, files, data }, [data]);
    });
    this.inFlight.add(round);
    const settled = () => this.inFlight.delete(round);
    round.then(settled, settled);
    return round;
  }

  /** Stops the worker once the rounds in flight are answered. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { compactBytes: this.compactBytes },
    });
    worker.unref();
    worker.on('message', ({ id, errors }: { id: number; errors: (string | null)[] }) => {
      const waiting = this.waiting.get(id);
      this.waiting.delete(id);
      if (this.waiting.size === 0) worker.unref();
      waiting?.resolve(errors);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      const waiting = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of waiting) w.reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The file writer thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

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

import { Worker } from 'node:worker_threads';

/** One file to replace with `text` (whole, or its parts one after the other), or to remove (null). */
export interface FileWrite {
  path: string;
  text: string | readonly string[] | null;
}

// The worker's code, plain JavaScript with Node's own modules only: a worker gets neither the
// TypeScript loader (tsx) that runs the rest of the store nor a way to resolve its packages.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
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

const knownDirs = new Set();
// files: [{ path, end }] in order; a file's bytes run from the previous file's end to its own in
// data (end -1: remove the file).
parentPort.on('message', ({ id, files, data }) => {
  const bytes = Buffer.from(data);
  const errors = [];
  let start = 0;
  for (const { path: file, end } of files) {
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
        replace(file, bytes, from, end);
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
function pack(writes: readonly FileWrite[]): { files: { path: string; end: number }[]; data: ArrayBuffer } {
  let size = 0;
  for (const { text } of writes) {
    if (typeof text === 'string') size += Buffer.byteLength(text, 'utf8');
    else if (text !== null) for (const part of text) size += Buffer.byteLength(part, 'utf8');
  }
  // Its own ArrayBuffer (never a slice of Buffer's shared pool), so that it can be transferred.
  const data = Buffer.allocUnsafeSlow(size);
  const files: { path: string; end: number }[] = [];
  let at = 0;
  for (const { path, text } of writes) {
    if (text === null) {
      files.push({ path, end: -1 });
      continue;
    }
    if (typeof text === 'string') at += data.write(text, at, 'utf8');
    else for (const part of text) at += data.write(part, at, 'utf8');
    files.push({ path, end: at });
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
    const worker = new Worker(WORKER_SOURCE, { eval: true });
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

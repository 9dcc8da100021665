// File-system helpers for durability: rename alone survives a process crash, but only fsync of the
// file and of its directory survives a power cut.

import fs from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreUnavailableError } from './store.js';

/** Whether `err` is a Node system error with one of `codes` (ENOENT, EEXIST, ...). */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    codes.includes((err as NodeJS.ErrnoException).code as string)
  );
}

/** Wraps an I/O failure in StoreUnavailableError, keeping the original as `cause`. */
export function unavailable(message: string, cause: unknown): StoreUnavailableError {
  if (cause instanceof StoreUnavailableError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StoreUnavailableError(`${message}: ${detail}`, { cause });
}

/**
 * Flushes a file or directory to disk. A path that no longer exists has nothing left to flush.
 * Callbacks rather than fs/promises: a checkpoint fsyncs thousands of files, and a FileHandle's
 * three promise round trips cost the event loop about half again as much per file.
 */
export function fsyncPath(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.open(path, 'r', (openErr, fd) => {
      if (openErr) {
        if (isErrno(openErr, 'ENOENT')) return resolve();
        // Windows cannot open a directory as a file; its NTFS metadata journal covers renames.
        if (process.platform === 'win32' && isErrno(openErr, 'EISDIR', 'EPERM', 'EACCES')) {
          return resolve();
        }
        return reject(openErr);
      }
      fs.fsync(fd, (syncErr) => {
        fs.close(fd, (closeErr) => {
          const err = syncErr ?? closeErr;
          if (err) reject(err);
          else resolve();
        });
      });
    });
  });
}

/**
 * Replaces `path` with the text of `chunks`, written one after the other: after a crash, either
 * the old or the new file, never a mix. Returns the bytes written.
 */
export async function writeFileDurably(path: string, chunks: Iterable<string>): Promise<number> {
  const temp = join(dirname(path), `.${basename(path)}.tmp`);
  const fh = await open(temp, 'w');
  let bytes = 0;
  try {
    for (const chunk of chunks) {
      const buf = Buffer.from(chunk, 'utf8');
      let written = 0;
      while (written < buf.length) {
        const { bytesWritten } = await fh.write(buf, written, buf.length - written);
        written += bytesWritten;
      }
      bytes += buf.length;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, path);
  await fsyncPath(dirname(path));
  return bytes;
}

/** A file's text, or undefined when it does not exist (other errors are thrown). */
export async function readTextIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** Creates a directory (and parents) and makes its entry durable. Returns whether it was new. */
export async function mkdirDurably(path: string): Promise<boolean> {
  const created = await mkdir(path, { recursive: true });
  if (created === undefined) return false;
  await fsyncPath(dirname(created));
  return true;
}

/** Removes a file; one that is already gone is fine. */
export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
}

/** Maps `items` through `fn` with at most `limit` calls in flight, keeping order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

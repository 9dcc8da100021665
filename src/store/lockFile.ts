// The lowdb store is single-process: two processes writing the same files would interleave their
// journals and corrupt each other. A lock file holding the owner's pid makes a second opener fail
// loudly instead. It is advisory and local: it cannot protect a directory shared between hosts.

import { hostname } from 'node:os';
import { open, readFile, stat } from 'node:fs/promises';
import { isErrno, unlinkIfPresent } from './fsUtil.js';
import type { StoreLogger } from './storeLogger.js';
import { StoreUnavailableError } from './store.js';

/** Another live process (or this one) already has the store open. */
export class StoreLockedError extends StoreUnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'StoreLockedError';
  }
}

interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

/** A held lock. */
export interface StoreLock {
  release(): Promise<void>;
}

// Lock files this process holds: opening the same directory twice in one process is refused too.
const heldHere = new Set<string>();

// A lock file without readable content is either being written right now by another opener or
// was left empty by a crash between create and write; only an old one is the latter.
const EMPTY_LOCK_GRACE_MS = 10_000;

/** Takes the lock at `path`, taking over one left by a dead process. Throws StoreLockedError. */
export async function acquireLock(path: string, logger: StoreLogger): Promise<StoreLock> {
  if (heldHere.has(path)) {
    throw new StoreLockedError(`The store at ${path} is already open in this process`);
  }
  // A few rounds: a stale lock we remove may be re-taken by another starter in between.
  for (let round = 0; round < 3; round += 1) {
    if (await tryCreate(path)) {
      heldHere.add(path);
      return { release: () => release(path) };
    }
    const holder = await readHolder(path);
    if (holder === 'gone') continue;
    if (holder === 'unreadable') {
      const age = await ageMs(path);
      if (age !== undefined && age < EMPTY_LOCK_GRACE_MS) {
        throw new StoreLockedError(`The store lock ${path} is being taken by another process`);
      }
    } else if (isAlive(holder)) {
      throw new StoreLockedError(
        `The store is already open in process ${holder.pid} on ${holder.host} since ${holder.since} ` +
          `(lock file ${path}). Only one process may open it; stop the other one first.`,
      );
    }
    logger.warn({ lock: path, holder }, 'taking over a stale store lock left by a dead process');
    await unlinkIfPresent(path);
  }
  throw new StoreLockedError(
    `Could not take the store lock ${path}: other processes keep taking it`,
  );
}

async function tryCreate(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
  try {
    const holder: LockHolder = {
      pid: process.pid,
      host: hostname(),
      since: new Date().toISOString(),
    };
    await fh.writeFile(JSON.stringify(holder), 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

async function readHolder(path: string): Promise<LockHolder | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 'gone';
    throw err;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && Number.isInteger(h.pid) && h.pid > 0) {
      return { pid: h.pid, host: String(h.host), since: String(h.since) };
    }
    return 'unreadable';
  } catch (err) {
    if (err instanceof SyntaxError) return 'unreadable';
    throw err;
  }
}

async function ageMs(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

function isAlive(holder: LockHolder): boolean {
  // Our own pid in a lock we do not hold comes from an earlier run of this process's pid, e.g. a
  // restarted container where the app is pid 1 again.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user; it is alive.
    if (isErrno(err, 'EPERM')) return true;
    if (isErrno(err, 'ESRCH')) return false;
    throw err;
  }
}

async function release(path: string): Promise<void> {
  heldHere.delete(path);
  const holder = await readHolder(path);
  // Only remove our own lock: after a (wrong) takeover the file may belong to someone else.
  if (typeof holder === 'object' && holder.pid !== process.pid) return;
  await unlinkIfPresent(path);
}

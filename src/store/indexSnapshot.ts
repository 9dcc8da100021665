// A compact copy of the in-memory index (ids, eTags, index keys), written at each checkpoint, so
// that open() reads one file instead of every document: it is what keeps start-up fast at 50,000.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { DocEntry, IndexKeys } from './indexTable.js';
import { isErrno, writeFileDurably } from './fsUtil.js';
import type { StoreLogger } from './storeLogger.js';
import type { IndexSpec } from './store.js';

/** One document in a snapshot: [id, eTag] or [id, eTag, index keys]. */
type SnapshotRow = [string, string] | [string, string, IndexKeys];

/** The state of the store before journal generation `walGen`. */
export interface IndexSnapshot {
  /** Journal files older than this generation are fully applied and flushed. */
  walGen: number;
  /** Fingerprint of the IndexSpec the keys were computed with. */
  spec: string;
  collections: Record<string, SnapshotRow[]>;
}

/**
 * Fingerprint of an index spec: when an extractor changes, the stored keys are stale and open()
 * rebuilds them from the documents. Based on the extractors' source text.
 */
export function specFingerprint(spec: IndexSpec): string {
  const hash = createHash('sha1');
  for (const collection of Object.keys(spec).sort()) {
    const indexes = spec[collection] ?? {};
    for (const name of Object.keys(indexes).sort()) {
      hash.update(`${collection}\0${name}\0${String(indexes[name])}\0`);
    }
  }
  return hash.digest('hex');
}

/** Serializes a point-in-time capture of the table. */
export function serializeSnapshot(
  walGen: number,
  spec: string,
  entries: Map<string, [string, DocEntry][]>,
): string {
  const collections: Record<string, SnapshotRow[]> = {};
  for (const [collection, docs] of entries) {
    collections[collection] = docs.map(([id, e]) => (e.keys ? [id, e.eTag, e.keys] : [id, e.eTag]));
  }
  const snapshot: IndexSnapshot & { v: 1 } = { v: 1, walGen, spec, collections };
  return JSON.stringify(snapshot);
}

/** Writes the snapshot durably (temp file, fsync, rename, fsync directory). */
export function writeSnapshot(path: string, text: string): Promise<void> {
  return writeFileDurably(path, text);
}

/**
 * Reads the snapshot. Undefined when there is none or it is unreadable as a snapshot: it is only a
 * cache of the documents, so open() then rebuilds it by scanning them.
 */
export async function readSnapshot(
  path: string,
  logger: StoreLogger,
): Promise<IndexSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    logger.warn({ err, path }, 'store index snapshot does not parse; rebuilding from documents');
    return undefined;
  }
  const s = parsed as Partial<IndexSnapshot> & { v?: unknown };
  if (
    s.v !== 1 ||
    typeof s.walGen !== 'number' ||
    typeof s.spec !== 'string' ||
    typeof s.collections !== 'object' ||
    s.collections === null
  ) {
    logger.warn({ path }, 'store index snapshot has an unknown shape; rebuilding from documents');
    return undefined;
  }
  return { walGen: s.walGen, spec: s.spec, collections: s.collections };
}

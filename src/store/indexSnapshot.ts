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

/** How a snapshot is cut into pieces: each is written (a trip to the thread pool) before the next
 * is built, so the event loop serves requests between pieces. */
export interface ChunkOptions {
  /** Documents per piece at most. */
  maxRows?: number;
  /** A piece also ends once building it has taken this long (checked every 64 rows). */
  budgetMs?: number;
  now?: () => number;
}

/**
 * The snapshot of a point-in-time capture of the table, as text in pieces: at 100,000 documents it
 * is never built as one string (nor as one array of rows), which under load made the heap, and so
 * the process's resident memory, jump at each checkpoint. A piece ends at `maxRows` documents or
 * after `budgetMs` of work, whichever comes first: 2,000 rows took 5 ms on a quiet machine but 20 to
 * 35 ms on a busy one, and each piece is that long a pause for every request waiting meanwhile.
 */
export function* snapshotChunks(
  walGen: number,
  spec: string,
  entries: Map<string, [string, DocEntry][]>,
  { maxRows = 2_000, budgetMs = 2, now = () => performance.now() }: ChunkOptions = {},
): Generator<string> {
  yield `{"v":1,"walGen":${walGen},"spec":${JSON.stringify(spec)},"collections":{`;
  let first = true;
  for (const [collection, docs] of entries) {
    yield `${first ? '' : ','}${JSON.stringify(collection)}:[`;
    first = false;
    let i = 0;
    while (i < docs.length) {
      const started = now();
      const end = Math.min(docs.length, i + maxRows);
      const rows: string[] = [];
      const from = i;
      for (; i < end; i++) {
        const [id, e] = docs[i]!;
        const row: SnapshotRow = e.keys ? [id, e.eTag, e.keys] : [id, e.eTag];
        rows.push(JSON.stringify(row));
        if ((i - from) % 64 === 63 && now() - started >= budgetMs) {
          i++;
          break;
        }
      }
      yield `${from === 0 ? '' : ','}${rows.join(',')}`;
    }
    yield ']';
  }
  yield '}}';
}

/** The whole snapshot as one string (for small stores and for tests). */
export function serializeSnapshot(
  walGen: number,
  spec: string,
  entries: Map<string, [string, DocEntry][]>,
): string {
  return [...snapshotChunks(walGen, spec, entries)].join('');
}

/** Writes the snapshot durably (temp file, fsync, rename, fsync directory); returns its bytes. */
export function writeSnapshot(path: string, text: string | Iterable<string>): Promise<number> {
  return writeFileDurably(path, typeof text === 'string' ? [text] : text);
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

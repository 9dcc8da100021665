// A compact copy of the in-memory index (ids, eTags, index keys), written at each checkpoint, so
// that open() reads one file instead of every document: it is what keeps start-up fast at 50,000.

import { createHash } from 'node:crypto';
import { transform } from 'esbuild';
import type { DocEntry, IndexKeys } from './indexTable.js';
import { readTextIfPresent, writeFileDurably } from './fsUtil.js';
import type { StoreLogger } from './storeLogger.js';
import { indexVersionOf, type IndexSpec, type PackSpec } from './store.js';

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
 * rebuilds them from the documents. It is made from the extractors' source text, which tsc and tsx
 * (esbuild) emit differently (spaces, quotes, `undefined` or `void 0`): a fingerprint of the emitted
 * text alone made a data folder that `npm start` and `npm run start:prod` took turns with rebuild
 * its whole index at every change of hands. So a snapshot records two: `raw`, of the text as this
 * process has it (cheap), and `canonical`, of the text as esbuild's minifier prints it, which is
 * the same from either compiler. A snapshot whose raw fingerprint matches is usable at once; one
 * whose raw does not match is usable if its canonical one does (esbuild's first call at start-up
 * takes 10 to 20 ms, paid only then). What an extractor calls (a helper it imports) is not part of
 * its text: the spec's version (versionedIndexes) is, and is what changes when such a helper's
 * answer does.
 */
export class SpecFingerprint {
  readonly raw: string;
  private readonly sources: string[] = [];
  private readonly names: string;
  private canonicalHash: string | undefined;

  constructor(spec: IndexSpec, packs: PackSpec = {}) {
    const names: string[] = [];
    for (const collection of Object.keys(spec).sort()) {
      const indexes = spec[collection] ?? {};
      for (const name of Object.keys(indexes).sort()) {
        names.push(`${collection}\0${name}`);
        this.sources.push(`(${String(indexes[name])})`);
      }
    }
    const version = indexVersionOf(spec);
    // A spec without a version keeps the fingerprint it had before versions existed.
    if (version !== undefined) names.push(`version ${version}`);
    // Where documents are kept is part of what a snapshot describes: a change of the packs makes
    // open() scan, which moves the documents. None keeps the fingerprint stores had before packs.
    for (const collection of Object.keys(packs).sort()) {
      names.push(`pack ${collection}\0${packs[collection]?.separator}`);
    }
    this.names = names.join('\0');
    this.raw = sha1(`${this.names}\0${this.sources.join(',\n')}`);
  }

  /** Of the extractors as esbuild's minifier prints them (names kept: renaming depends on the text). */
  async canonical(): Promise<string> {
    // Assigned, so that the minifier keeps it (an unused expression it would drop as dead code).
    this.canonicalHash ??= sha1(
      `${this.names}\0${await canonicalSource(`f=[${this.sources.join(',\n')}];`)}`,
    );
    return this.canonicalHash;
  }

  /** Whether a snapshot that recorded `stored` was written with this spec. */
  async matches(stored: string): Promise<boolean> {
    const [raw, canonical] = stored.split(' ');
    if (canonical === undefined) return false; // written before the canonical fingerprint
    if (raw === this.raw) {
      this.canonicalHash ??= canonical; // the same text has the same canonical form
      return true;
    }
    return canonical === (await this.canonical());
  }

  /** What a snapshot records (after matches() or canonical() has settled). */
  get recorded(): string {
    if (this.canonicalHash === undefined)
      throw new Error('the canonical fingerprint is not known yet');
    return `${this.raw} ${this.canonicalHash}`;
  }
}

/** The fingerprint a snapshot records for this spec and these packs (see SpecFingerprint). */
export async function specFingerprint(spec: IndexSpec, packs: PackSpec = {}): Promise<string> {
  const fingerprint = new SpecFingerprint(spec, packs);
  await fingerprint.canonical();
  return fingerprint.recorded;
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/**
 * Code as esbuild's minifier prints it; the text itself where esbuild cannot parse it. The async
 * API: its service is a child process of its own (as the web bundler's), where the sync API would
 * keep a worker thread in this process (13 MB resident).
 */
async function canonicalSource(code: string): Promise<string> {
  try {
    const out = await transform(code, {
      loader: 'js',
      minifyWhitespace: true,
      minifySyntax: true,
      target: 'esnext',
    });
    return out.code;
  } catch {
    return code;
  }
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
  const text = await readTextIfPresent(path);
  if (text === undefined) return undefined;
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

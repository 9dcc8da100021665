// The embedded, durable Store: lowdb JSON files on the local disk.
//
// SINGLE PROCESS ONLY: the directory is locked at open; run one instance (for several instances
// behind a load balancer, use a database-backed Store).
//
// On disk (see fileLayout.ts):
//   LOCK                               pid of the process that has the store open
//   docs/<collection>/<shard>/<id>.json  one lowdb JSONFile per document: the cost of a write does
//                                      not grow with the number of documents
//   wal/<gen>.log                      write-ahead journal: one fsynced line per batch (the commit)
//   index.json                         snapshot of ids, eTags and index keys as of a journal gen
//
// A write: check eTags against the in-memory table, append the batch to the journal and fdatasync
// (from here the batch survives kill -9 and power loss), then write the document files through
// lowdb (temp file + rename, not fsynced), then update the in-memory table. Once the journal passes
// a size, a checkpoint starts a new journal file, fsyncs the documents written since the last one,
// writes the snapshot and deletes the old journal files; it runs beside later writes. open() loads
// the snapshot, replays the journal files it does not cover, and scans the documents only when
// there is no usable snapshot (first open, or the index extractors changed).
//
// Limits: values must be JSON; a find() reads every matching document (index keys are for narrow
// queries such as one reporter's tickets); on Windows directories cannot be fsynced.

import { readdir, readFile, stat, truncate } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { docKey, planBatch, type PlannedOp } from './batchPlan.js';
import { readDocFile, writeDocFile, type DocFileData } from './docFile.js';
import { FileLayout } from './fileLayout.js';
import { fsyncPath, mapLimit, mkdirDurably, unavailable, unlinkIfPresent } from './fsUtil.js';
import {
  readSnapshot,
  serializeSnapshot,
  specFingerprint,
  writeSnapshot,
  type IndexSnapshot,
} from './indexSnapshot.js';
import { IndexTable, type DocEntry } from './indexTable.js';
import { acquireLock, type StoreLock } from './lockFile.js';
import { LruCache } from './lruCache.js';
import { SerialQueue } from './serialQueue.js';
import { silentLogger, type StoreLogger } from './storeLogger.js';
import { decodeWal, encodePlan, WalWriter, type WalOp } from './wal.js';
import {
  StoreUnavailableError,
  type IndexSpec,
  type Store,
  type StoredDoc,
  type WriteOp,
} from './store.js';

export interface LowdbStoreOptions {
  /** The store's own directory (created if missing). */
  dir: string;
  indexes?: IndexSpec;
  logger?: StoreLogger;
  /** Documents kept parsed in memory, most recently used first (default 2,000). */
  cacheSize?: number;
  /** Journal size that triggers a checkpoint, or the snapshot's size if larger (default 4 MiB). */
  checkpointBytes?: number;
}

/** A document as held in the cache and the read shadow: its eTag and its value as JSON text. */
interface CachedDoc {
  eTag: string;
  json: string;
}

const DEFAULT_CACHE = 2_000;
const DEFAULT_CHECKPOINT_BYTES = 4 * 1024 * 1024;
// Parallel reads/fsyncs: enough to keep the disk busy without running out of file descriptors.
const IO_CONCURRENCY = 32;

/** Opens (creating if needed) the lowdb store in `dir`, recovering from a crash if need be. */
export function openLowdbStore(options: LowdbStoreOptions): Promise<LowdbStore> {
  return LowdbStore.open(options);
}

/** The lowdb-backed Store. Create it with openLowdbStore(). */
export class LowdbStore implements Store {
  private readonly queue = new SerialQueue();
  private readonly cache: LruCache<CachedDoc>;
  private readonly knownDirs = new Set<string>();
  /** Files and directories written since the last checkpoint: fsynced before the journal is cut. */
  private dirty = new Set<string>();
  /**
   * While a batch is being applied to the document files: the documents it touches, as they were
   * before it (null: absent). Readers see these, so nobody reads half a batch.
   */
  private shadow: Map<string, CachedDoc | null> | undefined;
  private walWriter: WalWriter | undefined;
  private walGen = 0;
  private snapshotBytes = 0;
  private checkpointing: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Set when a failed write could not be undone: every call fails until the store is reopened. */
  private broken: StoreUnavailableError | undefined;

  private constructor(
    private readonly layout: FileLayout,
    private readonly table: IndexTable,
    private readonly spec: string,
    private readonly lock: StoreLock,
    private readonly logger: StoreLogger,
    private readonly checkpointBytes: number,
    cacheSize: number,
  ) {
    this.cache = new LruCache(cacheSize);
  }

  /** The current journal file (set once open() has recovered). */
  private get wal(): WalWriter {
    if (!this.walWriter) throw new Error('The store journal is not open');
    return this.walWriter;
  }

  /** See openLowdbStore. */
  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    const logger = options.logger ?? silentLogger;
    const layout = new FileLayout(resolve(options.dir));
    let lock: StoreLock;
    try {
      await mkdirDurably(layout.root);
      lock = await acquireLock(layout.lock, logger);
    } catch (err) {
      throw unavailable(`Cannot open the store in ${layout.root}`, err);
    }
    const indexes = options.indexes ?? {};
    const store = new LowdbStore(
      layout,
      new IndexTable(indexes),
      specFingerprint(indexes),
      lock,
      logger,
      options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES,
      options.cacheSize ?? DEFAULT_CACHE,
    );
    try {
      await store.recover();
    } catch (err) {
      await store.walWriter?.close();
      await lock.release();
      throw unavailable(`Cannot open the store in ${layout.root}`, err);
    }
    return store;
  }

  async get<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    this.assertReadable();
    return this.read<T>(collection, id);
  }

  write(ops: WriteOp[]): Promise<string[]> {
    if (this.closed) return Promise.reject(closedError());
    return this.queue.run(() => this.writeBatch(ops));
  }

  async find<T>(collection: string, index: string, key: string): Promise<StoredDoc<T>[]> {
    this.assertReadable();
    const ids = this.table.lookup(collection, index, key);
    const docs = await mapLimit(ids, IO_CONCURRENCY, (id) => this.read<T>(collection, id));
    // A document may have changed between the index lookup and its read: return only true matches.
    return docs.filter(
      (d): d is StoredDoc<T> =>
        d !== undefined && this.table.matches(collection, index, key, d.value),
    );
  }

  async findETags(
    collection: string,
    index: string,
    key: string,
  ): Promise<{ id: string; eTag: string }[]> {
    this.assertReadable();
    // The table changes only when a batch commits (synchronously): this is one consistent state.
    return this.table.lookupETags(collection, index, key);
  }

  async count(collection: string): Promise<number> {
    this.assertReadable();
    return this.table.count(collection);
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  // ---- reads ----

  private async read<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    const key = docKey(collection, id);
    // A batch may commit (or be undone) while the file is read; the table is the truth, so a file
    // that disagrees with it is read again.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (this.shadow?.has(key)) return toStored<T>(id, this.shadow.get(key) ?? null);
      const entry = this.table.get(collection, id);
      if (!entry) return undefined;
      const cached = this.cache.get(key);
      if (cached?.eTag === entry.eTag) return toStored<T>(id, cached);
      const file = await this.readFile(collection, id);
      if (this.shadow?.has(key)) return toStored<T>(id, this.shadow.get(key) ?? null);
      const now = this.table.get(collection, id);
      if (!now) return undefined;
      if (file && file.eTag === now.eTag) {
        this.cache.set(key, { eTag: file.eTag, json: JSON.stringify(file.value) });
        return { id, eTag: file.eTag, value: file.value as T };
      }
    }
    throw new StoreUnavailableError(
      `Document file ${this.layout.docFile(collection, id)} does not match the store's index`,
    );
  }

  /** The committed document, for a writer (no batch can be in flight). */
  private async readCommitted(collection: string, id: string): Promise<CachedDoc | null> {
    const entry = this.table.get(collection, id);
    if (!entry) return null;
    const key = docKey(collection, id);
    const cached = this.cache.get(key);
    if (cached?.eTag === entry.eTag) return cached;
    const file = await this.readFile(collection, id);
    if (!file || file.eTag !== entry.eTag) {
      throw new StoreUnavailableError(
        `Document file ${this.layout.docFile(collection, id)} does not match the store's index`,
      );
    }
    const doc = { eTag: file.eTag, json: JSON.stringify(file.value) };
    this.cache.set(key, doc);
    return doc;
  }

  private async readFile(collection: string, id: string): Promise<DocFileData | undefined> {
    const path = this.layout.docFile(collection, id);
    try {
      return await readDocFile(path);
    } catch (err) {
      throw unavailable(`Cannot read ${path}`, err);
    }
  }

  // ---- writes ----

  private async writeBatch(ops: WriteOp[]): Promise<string[]> {
    if (this.broken) throw this.broken;
    const plan = planBatch(ops, {
      eTagOf: (c, id) => this.table.get(c, id)?.eTag,
      keysFor: (c, v) => this.table.keysFor(c, v),
    });
    if (plan.length === 0) return [];

    // Read the documents' current state first: it is what readers see while the batch is applied
    // and what an undo puts back.
    const before = new Map<string, CachedDoc | null>();
    for (const op of plan) {
      const key = docKey(op.collection, op.id);
      if (!before.has(key)) before.set(key, await this.readCommitted(op.collection, op.id));
    }

    const walStart = this.wal.size;
    try {
      await this.wal.append(encodePlan(plan));
    } catch (err) {
      await this.undo([], before, walStart, err);
      throw unavailable('Cannot write the store journal', err);
    }

    this.shadow = before;
    try {
      let applied = 0;
      try {
        for (const op of plan) {
          await this.applyOp(op);
          applied += 1;
        }
      } catch (err) {
        await this.undo(plan.slice(0, applied), before, walStart, err);
        throw unavailable('Cannot write a document file', err);
      }
      this.commit(plan);
    } finally {
      this.shadow = undefined;
    }
    await this.maybeCheckpoint();
    return plan.map((op) => (op.kind === 'put' ? op.eTag : ''));
  }

  private async applyOp(op: PlannedOp): Promise<void> {
    const path = this.layout.docFile(op.collection, op.id);
    const dir = dirname(path);
    this.dirty.add(dir);
    if (op.kind === 'put') {
      await this.ensureDir(dir);
      this.dirty.add(path);
      await writeDocFile(path, {
        collection: op.collection,
        id: op.id,
        eTag: op.eTag,
        value: op.value,
      });
    } else {
      await unlinkIfPresent(path);
    }
  }

  /** Makes the in-memory state match a batch that is now fully on disk. Synchronous on purpose. */
  private commit(plan: readonly PlannedOp[]): void {
    for (const op of plan) {
      const key = docKey(op.collection, op.id);
      if (op.kind === 'put') {
        this.table.set(op.collection, op.id, { eTag: op.eTag, keys: op.keys });
        this.cache.set(key, { eTag: op.eTag, json: op.json });
      } else {
        this.table.delete(op.collection, op.id);
        this.cache.delete(key);
      }
    }
  }

  /**
   * Puts back the documents a failed batch touched, then cuts its record from the journal. If that
   * fails too, the store refuses every call until reopened (the journal then replays the batch
   * whole, so the disk is never left with half of it).
   */
  private async undo(
    applied: readonly PlannedOp[],
    before: Map<string, CachedDoc | null>,
    walStart: number,
    cause: unknown,
  ): Promise<void> {
    try {
      const done = new Set<string>();
      for (const op of [...applied].reverse()) {
        const key = docKey(op.collection, op.id);
        if (done.has(key)) continue;
        done.add(key);
        const prior = before.get(key) ?? null;
        const path = this.layout.docFile(op.collection, op.id);
        if (prior) {
          const value: unknown = JSON.parse(prior.json);
          await writeDocFile(path, {
            collection: op.collection,
            id: op.id,
            eTag: prior.eTag,
            value,
          });
          await fsyncPath(path);
        } else {
          await unlinkIfPresent(path);
        }
        // Flushed before the journal forgets the batch: a power cut must not resurrect it.
        await fsyncPath(dirname(path));
      }
      await this.wal.truncate(walStart);
    } catch (undoErr) {
      this.broken = unavailable(
        'The store could not undo a failed write and must be reopened',
        undoErr,
      );
      this.logger.error(
        { err: undoErr, cause, dir: this.layout.root },
        'store write failed and could not be undone; refusing further calls until reopened',
      );
      throw this.broken;
    }
    this.logger.warn({ err: cause, dir: this.layout.root }, 'store write failed; nothing applied');
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    if (await mkdirDurably(dir)) this.dirty.add(dirname(dir));
    this.knownDirs.add(dir);
  }

  // ---- checkpoints ----

  private checkpointThreshold(): number {
    return Math.max(this.checkpointBytes, this.snapshotBytes);
  }

  /** Called between batches: starts a new journal and checkpoints the old one in the background. */
  private async maybeCheckpoint(): Promise<void> {
    if (this.checkpointing || this.wal.size < this.checkpointThreshold()) return;
    const gen = this.walGen + 1;
    let next: WalWriter;
    try {
      next = await WalWriter.open(this.layout.walFile(gen));
    } catch (err) {
      // The batch is already committed; the journal just keeps growing until this works.
      this.logger.error({ err, dir: this.layout.root }, 'cannot start a new store journal');
      return;
    }
    const previous = this.wal;
    this.walWriter = next;
    this.walGen = gen;
    const dirty = this.dirty;
    this.dirty = new Set();
    const entries = this.table.capture();
    this.checkpointing = previous
      .close()
      .then(() => this.checkpoint(dirty, entries, gen))
      .catch((err: unknown) => {
        // Nothing is lost: the old journal files stay until a later checkpoint covers them.
        for (const p of dirty) this.dirty.add(p);
        this.logger.error({ err, dir: this.layout.root }, 'store checkpoint failed; will retry');
      })
      .finally(() => {
        this.checkpointing = undefined;
      });
  }

  /** Flushes `dirty`, writes the snapshot of `entries` as of journal `walGen`, drops older ones. */
  private async checkpoint(
    dirty: Set<string>,
    entries: Map<string, [string, DocEntry][]>,
    walGen: number,
  ): Promise<void> {
    const started = Date.now();
    await mapLimit([...dirty], IO_CONCURRENCY, fsyncPath);
    const text = serializeSnapshot(walGen, this.spec, entries);
    await writeSnapshot(this.layout.snapshot, text);
    this.snapshotBytes = Buffer.byteLength(text);
    for (const gen of await this.walGens()) {
      if (gen < walGen) await unlinkIfPresent(this.layout.walFile(gen));
    }
    this.logger.debug(
      { dir: this.layout.root, walGen, flushed: dirty.size, ms: Date.now() - started },
      'store checkpoint done',
    );
  }

  private async walGens(): Promise<number[]> {
    const names = await readdir(this.layout.wal);
    return names
      .map((n) => this.layout.walGenOf(n))
      .filter((g): g is number => g !== undefined)
      .sort((a, b) => a - b);
  }

  // ---- open and close ----

  private async recover(): Promise<void> {
    const started = Date.now();
    await mkdirDurably(this.layout.docs);
    await mkdirDurably(this.layout.wal);
    const snapshot = await readSnapshot(this.layout.snapshot, this.logger);
    const usable = snapshot !== undefined && snapshot.spec === this.spec;
    if (usable) this.load(snapshot);

    // Journals older than the snapshot are applied and flushed; newer ones are replayed.
    const fromGen = snapshot?.walGen ?? 0;
    const gens = await this.walGens();
    for (const gen of gens) if (gen < fromGen) await unlinkIfPresent(this.layout.walFile(gen));
    const pending = gens.filter((g) => g >= fromGen);
    const replayed = await this.replay(pending, usable);

    if (!usable) await this.scan();
    this.walGen = Math.max(fromGen, (pending.at(-1) ?? 0) + 1);
    this.walWriter = await WalWriter.open(this.layout.walFile(this.walGen));
    if (replayed > 0 || !usable) {
      const dirty = this.dirty;
      this.dirty = new Set();
      await this.checkpoint(dirty, this.table.capture(), this.walGen);
    } else if (snapshot) {
      this.snapshotBytes = (await stat(this.layout.snapshot)).size;
    }
    this.logger.info(
      {
        dir: this.layout.root,
        ms: Date.now() - started,
        replayedBatches: replayed,
        rebuiltIndex: !usable,
      },
      'store opened',
    );
  }

  private load(snapshot: IndexSnapshot): void {
    for (const [collection, rows] of Object.entries(snapshot.collections)) {
      for (const [id, eTag, keys] of rows) this.table.set(collection, id, { eTag, keys });
    }
  }

  /** Re-applies journal records to the document files (idempotent: each sets a final state). */
  private async replay(gens: readonly number[], updateTable: boolean): Promise<number> {
    const finals = new Map<string, WalOp>();
    let batches = 0;
    for (const gen of gens) {
      const path = this.layout.walFile(gen);
      const buf = await readFile(path);
      const { records, validBytes } = decodeWal(path, buf);
      if (validBytes < buf.length) {
        // A crash mid-append: that batch was never acknowledged, so it is dropped whole.
        this.logger.warn(
          { path, tornBytes: buf.length - validBytes },
          'store journal ends with a torn record; ignoring it',
        );
        await truncate(path, validBytes);
        await fsyncPath(path);
      }
      for (const record of records) {
        for (const op of record.ops) finals.set(docKey(op.c, op.id), op);
      }
      batches += records.length;
    }
    await mapLimit([...finals.values()], IO_CONCURRENCY, (op) => this.replayOp(op, updateTable));
    return batches;
  }

  private async replayOp(op: WalOp, updateTable: boolean): Promise<void> {
    const path = this.layout.docFile(op.c, op.id);
    const dir = dirname(path);
    if ('d' in op) {
      await unlinkIfPresent(path);
      this.dirty.add(dir);
      if (updateTable) this.table.delete(op.c, op.id);
      return;
    }
    let current: DocFileData | undefined;
    try {
      current = await readDocFile(path);
    } catch (err) {
      // A damaged file is what replay is for: the journal holds its full content.
      this.logger.warn({ err, path }, 'store document unreadable; restoring it from the journal');
    }
    if (current?.eTag !== op.e) {
      await this.ensureDir(dir);
      await writeDocFile(path, { collection: op.c, id: op.id, eTag: op.e, value: op.v });
      this.dirty.add(path);
      this.dirty.add(dir);
    }
    if (updateTable) {
      this.table.set(op.c, op.id, { eTag: op.e, keys: this.table.keysFor(op.c, op.v) });
    }
  }

  /** Rebuilds the table from every document file: first open, or after the indexes changed. */
  private async scan(): Promise<void> {
    const started = Date.now();
    const files: string[] = [];
    for (const col of await readdir(this.layout.docs, { withFileTypes: true })) {
      if (!col.isDirectory()) continue;
      const colDir = join(this.layout.docs, col.name);
      for (const shard of await readdir(colDir, { withFileTypes: true })) {
        if (!shard.isDirectory()) continue;
        const shardDir = join(colDir, shard.name);
        this.knownDirs.add(shardDir);
        for (const name of await readdir(shardDir)) {
          // Names starting with "." are steno's temp files from an interrupted write.
          if (name.endsWith('.json') && !name.startsWith('.')) files.push(join(shardDir, name));
        }
      }
    }
    await mapLimit(files, IO_CONCURRENCY, async (path) => {
      const doc = await readDocFile(path);
      if (!doc) return;
      const keys = this.table.keysFor(doc.collection, doc.value);
      this.table.set(doc.collection, doc.id, { eTag: doc.eTag, keys });
    });
    this.logger.info(
      { dir: this.layout.root, documents: files.length, ms: Date.now() - started },
      'store index rebuilt from documents',
    );
  }

  private async shutdown(): Promise<void> {
    await this.queue.idle();
    await this.checkpointing;
    let failure: unknown;
    try {
      await this.wal.close();
      // A last checkpoint makes the next open read only the snapshot.
      if (!this.broken && (this.wal.size > 0 || this.dirty.size > 0)) {
        const dirty = this.dirty;
        this.dirty = new Set();
        await this.checkpoint(dirty, this.table.capture(), this.walGen + 1);
      }
    } catch (err) {
      failure = err;
    }
    await this.lock.release();
    // The journal still holds every write, so a failed last checkpoint loses nothing; say so.
    if (failure) throw unavailable('Store closed, but its last checkpoint failed', failure);
  }

  private assertReadable(): void {
    if (this.closed) throw closedError();
    if (this.broken) throw this.broken;
  }
}

function toStored<T>(id: string, doc: CachedDoc | null): StoredDoc<T> | undefined {
  return doc ? { id, eTag: doc.eTag, value: JSON.parse(doc.json) as T } : undefined;
}

function closedError(): StoreUnavailableError {
  return new StoreUnavailableError('The store is closed');
}

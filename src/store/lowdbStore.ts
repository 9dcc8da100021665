// The embedded, durable Store: lowdb JSON files on the local disk.
//
// SINGLE PROCESS ONLY: the directory is locked at open; run one instance (for several instances
// behind a load balancer, use a database-backed Store).
//
// On disk (see fileLayout.ts):
//   LOCK                               pid of the process that has the store open
//   docs/<collection>/<shard>/<id>.json  one lowdb DataFile per document: the cost of a write does
//                                      not grow with the number of documents
//   docs/<collection>/<shard>/<group>.pack  in a packed collection (options.packs), the documents
//                                      whose ids share a group, appended to (packFile.ts)
//   wal/<gen>.log                      write-ahead journal: one fsynced line per batch (the commit)
//   index.json                         snapshot of ids, eTags and index keys as of a journal gen
//
// A write is committed by the journal alone. Batches that arrive while the journal is busy wait and
// are then planned together, in order (each checked against the state the earlier ones leave),
// appended as one line each and made durable once (group commit; see wal.ts). From then on the
// batch survives kill -9 and power loss; the in-memory table, the cache and the map of unflushed
// documents are updated at once, synchronously, and the writers are answered. A background flusher
// then writes each changed document's *latest* version to its file once that version is
// flushDelayMs old, on a thread of its own (fileWriter.ts: overwritten in place, not fsynced; a
// temp file and a rename, as lowdb writes, created an inode each time, up to 50 times the cost): a
// document written three times in a row costs one file write. Reads look at the unflushed map
// first, so they never see a file older than the table, nor one being written. Once the journal
// passes a size, a checkpoint starts a new journal file, waits until every document committed
// before it is flushed, fsyncs those files, writes the snapshot and deletes the old journal files;
// it runs beside later writes. open() loads the snapshot, replays the journal files it does not
// cover (restoring any document file that was not written or was torn: each is compared whole with
// the journal's version), and scans the documents only when there is no usable snapshot (first
// open, or the index extractors changed).
//
// Limits: values must be JSON; a find() reads every matching document (index keys are for narrow
// queries such as one reporter's tickets); on Windows directories cannot be fsynced.

import { existsSync } from 'node:fs';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { docKey, planBatch, type PlannedOp } from './batchPlan.js';
import {
  docFileParts,
  docFileText,
  readDocFile,
  readDocFileSync,
  writeDocFile,
  type DocFileData,
  type DocFileRead,
} from './docFile.js';
import { FileWriter, PACK_COMPACT_BYTES, type FileWrite } from './fileWriter.js';
import { FileLayout } from './fileLayout.js';
import {
  fsyncPath,
  mapLimit,
  mkdirDurably,
  unavailable,
  unlinkIfPresent,
  writeFileDurably,
} from './fsUtil.js';
import {
  packGroup,
  packRecordParts,
  packText,
  packTombstone,
  readPack,
  readPackRecordSync,
  type PackSpec,
} from './packFile.js';
import {
  readSnapshot,
  snapshotChunks,
  SpecFingerprint,
  writeSnapshot,
  type IndexSnapshot,
} from './indexSnapshot.js';
import { IndexTable, type DocEntry } from './indexTable.js';
import { acquireLock, type StoreLock } from './lockFile.js';
import { LruCache } from './lruCache.js';
import { silentLogger, type StoreLogger } from './storeLogger.js';
import { decodeWal, encodeGroup, WalWriter, type WalOp } from './wal.js';
import {
  StoreUnavailableError,
  type IndexSpec,
  type Store,
  type StoredDoc,
  type WriteOp,
} from './store.js';

/** The journal as the store uses it: appends that are durable once they resolve. */
export interface Journal {
  readonly size: number;
  append(records: Buffer): Promise<void>;
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

export interface LowdbStoreOptions {
  /** The store's own directory (created if missing). */
  dir: string;
  indexes?: IndexSpec;
  /**
   * Collections whose documents are kept in packs, one file per group of ids, appended to instead
   * of one file per document (packFile.ts): for many small documents created together, such as a
   * ticket's outbox items. A pack is read whole for a document not in memory, so groups should stay
   * small. Changing this rebuilds the index at the next open and moves the documents.
   */
  packs?: PackSpec;
  /** The size at which a pack is first checked for stale lines (default 16 KiB; for tests). */
  packCompactBytes?: number;
  logger?: StoreLogger;
  /** Documents kept parsed in memory, most recently used first (default 2,000). */
  cacheSize?: number;
  /** Journal size that triggers a checkpoint, or the snapshot's size if larger (default 4 MiB). */
  checkpointBytes?: number;
  /**
   * Committed documents whose files may wait for the flusher (default 10,000). Past it, new
   * batches wait until the flusher catches up: memory stays bounded if the disk is slow.
   */
  maxUnflushed?: number;
  /**
   * How old a committed version must be before the flusher writes its file (default 250 ms): a
   * document changed again meanwhile is written once, at its latest version. The journal already
   * holds it, so waiting costs memory (bounded by maxUnflushed), not durability.
   */
  flushDelayMs?: number;
  /** Opens a journal file (default: WalWriter.open). For tests that need a failing journal. */
  openJournal?: (path: string) => Promise<Journal>;
}

/** A document as held in the cache: its eTag and its value as JSON text. */
interface CachedDoc {
  eTag: string;
  json: string;
}

/** A committed document version whose file is not written yet (json null: deleted). */
interface Unflushed {
  collection: string;
  id: string;
  eTag: string;
  json: string | null;
  /** Commit order: a checkpoint waits for every version up to the journal cut. */
  seq: number;
  /** When it was committed (performance.now()): it is written once it is flushDelayMs old. */
  at: number;
}

/** A write() waiting for the journal. */
interface PendingBatch {
  ops: WriteOp[];
  resolve(eTags: string[]): void;
  reject(err: unknown): void;
}

const DEFAULT_CACHE = 2_000;
const DEFAULT_CHECKPOINT_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_UNFLUSHED = 10_000;
const DEFAULT_FLUSH_DELAY_MS = 250;
// Batches that share one durable journal append, at most.
const MAX_GROUP = 256;
// Parallel reads/fsyncs: enough to keep the disk busy without running out of file descriptors.
const IO_CONCURRENCY = 32;
// Document files the flusher hands its writer thread at once (fileWriter.ts), oldest first. A
// round is short, so that writers held back by maxUnflushed go on as soon as it is answered.
const FLUSH_ROUND_MAX = 500;
// A failing flush is retried after this long, doubling up to the maximum.
const FLUSH_RETRY_MS = 50;
const FLUSH_RETRY_MAX_MS = 5_000;

/** Opens (creating if needed) the lowdb store in `dir`, recovering from a crash if need be. */
export function openLowdbStore(options: LowdbStoreOptions): Promise<LowdbStore> {
  return LowdbStore.open(options);
}

/** The lowdb-backed Store. Create it with openLowdbStore(). */
export class LowdbStore implements Store {
  private readonly cache: LruCache<CachedDoc>;
  private readonly knownDirs = new Set<string>();
  /** Writes the flusher's files on a thread of its own. */
  private readonly files: FileWriter;
  /** collection -> the separator of its pack groups (a Map: any string may name a collection). */
  private readonly packs: Map<string, string>;
  /** Files and directories written since the last checkpoint: fsynced before the journal is cut. */
  private dirty = new Set<string>();
  /** Batches waiting for the journal, in call order. */
  private waiting: PendingBatch[] = [];
  /** The loop that commits waiting batches, while it runs. */
  private committing: Promise<void> | undefined;
  /**
   * Committed versions not yet in their files, by docKey, in commit order (a new version moves its
   * document to the end): readers look here first, the flusher takes the oldest.
   */
  private readonly unflushed = new Map<string, Unflushed>();
  /** Versions up to this seq are written at once, whatever their age (flushed(), close()). */
  private flushTarget = 0;
  /** Ends the flusher's wait for the oldest version to age, when someone needs files now. */
  private wakeFlusher: (() => void) | undefined;
  /** True while the flusher is writing a round of files (not while it waits). */
  private writingRound = false;
  private seq = 0;
  /** Since open, for the log at close: what group commit and the flusher saved. */
  private readonly stats = {
    batches: 0,
    journalAppends: 0,
    journalMs: 0,
    journalMaxMs: 0,
    versions: 0,
    /** Document files written and packs appended to (a pack's lines of one round count once). */
    filesWritten: 0,
    /** Groups of batches held because maxUnflushed documents waited for their files. */
    heldGroups: 0,
    heldMaxMs: 0,
  };
  /** The flusher's loop, while it runs. */
  private flushing: Promise<void> | undefined;
  /** Called with the number of failed files at the end of each flush round. */
  private roundWaiters: ((failed: number) => void)[] = [];
  /** Set by close(): the flusher stops retrying failures. */
  private stopping = false;
  private walWriter: Journal | undefined;
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
    private readonly spec: SpecFingerprint,
    private readonly lock: StoreLock,
    private readonly logger: StoreLogger,
    private readonly checkpointBytes: number,
    private readonly maxUnflushed: number,
    private readonly openJournal: (path: string) => Promise<Journal>,
    private readonly flushDelayMs: number,
    cacheSize: number,
    packs: PackSpec,
    packCompactBytes: number,
  ) {
    this.cache = new LruCache(cacheSize);
    this.packs = new Map(Object.entries(packs).map(([c, { separator }]) => [c, separator]));
    this.files = new FileWriter(packCompactBytes);
  }

  /** The current journal file (set once open() has recovered). */
  private get wal(): Journal {
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
    const packs = options.packs ?? {};
    const store = new LowdbStore(
      layout,
      new IndexTable(indexes),
      new SpecFingerprint(indexes, packs),
      lock,
      logger,
      options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES,
      Math.max(1, options.maxUnflushed ?? DEFAULT_MAX_UNFLUSHED),
      options.openJournal ?? ((path) => WalWriter.open(path)),
      Math.max(0, options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS),
      options.cacheSize ?? DEFAULT_CACHE,
      packs,
      options.packCompactBytes ?? PACK_COMPACT_BYTES,
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
    return new Promise<string[]>((resolve, reject) => {
      this.waiting.push({ ops, resolve, reject });
      this.startCommitter();
    });
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

  async indexEntries(collection: string, index: string): Promise<{ id: string; keys: string[] }[]> {
    this.assertReadable();
    return this.table.entries(collection, index);
  }

  async count(collection: string): Promise<number> {
    this.assertReadable();
    return this.table.count(collection);
  }

  /** Resolves once every document committed so far is in its file (not yet fsynced). */
  async flushed(): Promise<void> {
    await this.flushThrough(this.seq);
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
    const pending = this.unflushed.get(key);
    if (pending) {
      return pending.json === null
        ? undefined
        : toStored<T>(id, { eTag: pending.eTag, json: pending.json });
    }
    const entry = this.table.get(collection, id);
    if (!entry) return undefined;
    const cached = this.cache.get(key);
    if (cached?.eTag === entry.eTag) return toStored<T>(id, cached);
    // A version leaves `unflushed` only once the flusher has renamed its file into place, and the
    // file is read synchronously, so no commit or flush lands between the table's look-up and the
    // read: a file that disagrees with the table was changed behind the store's back.
    const file = this.readFile(collection, id, entry.eTag);
    if (file?.eTag !== entry.eTag) {
      throw new StoreUnavailableError(
        `Document file ${this.fileOf(collection, id)} does not match the store's index`,
      );
    }
    this.cache.set(key, { eTag: file.eTag, json: file.json });
    return { id, eTag: file.eTag, value: file.value as T };
  }

  /** The document's file, or in a packed collection its version `eTag` from its pack. */
  private readFile(collection: string, id: string, eTag: string): DocFileRead | undefined {
    const path = this.fileOf(collection, id);
    try {
      return this.packs.has(collection)
        ? readPackRecordSync(path, collection, id, eTag)
        : readDocFileSync(path);
    } catch (err) {
      throw unavailable(`Cannot read ${path}`, err);
    }
  }

  /** Where a document's versions are written: its own file, or its group's pack. */
  private fileOf(collection: string, id: string): string {
    const separator = this.packs.get(collection);
    return separator === undefined
      ? this.layout.docFile(collection, id)
      : this.layout.packFile(collection, packGroup(id, separator));
  }

  // ---- writes ----

  private startCommitter(): void {
    this.committing ??= this.commitLoop().finally(() => {
      this.committing = undefined;
      // A batch may have arrived between the loop's last check and now.
      if (this.waiting.length > 0) this.startCommitter();
    });
  }

  /** Commits waiting batches, a group at a time, until none are left. */
  private async commitLoop(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_GROUP);
      try {
        if (this.broken) throw this.broken;
        await this.waitForFlusher();
        await this.commitGroup(group);
      } catch (err) {
        for (const batch of group) batch.reject(err);
        continue;
      }
      await this.maybeCheckpoint();
    }
  }

  /**
   * Plans each batch of the group against the state the batches before it leave, appends the
   * valid ones to the journal in one durable write, then applies them in memory and
   * answers their writers. A batch that conflicts or is malformed is rejected on its own.
   */
  private async commitGroup(group: readonly PendingBatch[]): Promise<void> {
    const staged = new Map<string, string | null>();
    const eTagOf = (c: string, id: string): string | undefined => {
      const key = docKey(c, id);
      return staged.has(key) ? (staged.get(key) ?? undefined) : this.table.get(c, id)?.eTag;
    };
    const keysFor = (c: string, v: unknown) => this.table.keysFor(c, v);
    const indexed = (c: string) => this.table.indexed(c);
    const planned: { batch: PendingBatch; plan: PlannedOp[] }[] = [];
    for (const batch of group) {
      let plan: PlannedOp[];
      try {
        plan = planBatch(batch.ops, { eTagOf, indexed, keysFor });
      } catch (err) {
        batch.reject(err);
        continue;
      }
      for (const op of plan) {
        staged.set(docKey(op.collection, op.id), op.kind === 'put' ? op.eTag : null);
      }
      planned.push({ batch, plan });
    }

    const records = planned.reduce((n, p) => (p.plan.length > 0 ? n + 1 : n), 0);
    if (records > 0) {
      const walStart = this.wal.size;
      try {
        const started = performance.now();
        await this.wal.append(encodeGroup(planned.map((p) => p.plan)));
        const ms = performance.now() - started;
        this.stats.batches += records;
        this.stats.journalAppends += 1;
        this.stats.journalMs += ms;
        this.stats.journalMaxMs = Math.max(this.stats.journalMaxMs, ms);
      } catch (err) {
        await this.cutJournal(walStart, err);
        throw unavailable('Cannot write the store journal', err);
      }
    }
    for (const { plan } of planned) this.apply(plan);
    for (const { batch, plan } of planned) {
      batch.resolve(plan.map((op) => (op.kind === 'put' ? op.eTag : '')));
    }
    if (records > 0) this.startFlusher();
  }

  /** Makes the in-memory state match a committed batch. Synchronous on purpose. */
  private apply(plan: readonly PlannedOp[]): void {
    const at = performance.now();
    for (const op of plan) {
      const key = docKey(op.collection, op.id);
      this.seq += 1;
      this.stats.versions += 1;
      // Deleted first so that the map stays in commit order.
      this.unflushed.delete(key);
      if (op.kind === 'put') {
        this.table.set(op.collection, op.id, { eTag: op.eTag, keys: op.keys });
        this.cache.set(key, { eTag: op.eTag, json: op.json });
        this.unflushed.set(key, {
          collection: op.collection,
          id: op.id,
          eTag: op.eTag,
          json: op.json,
          seq: this.seq,
          at,
        });
      } else {
        this.table.delete(op.collection, op.id);
        this.cache.delete(key);
        this.unflushed.set(key, {
          collection: op.collection,
          id: op.id,
          eTag: '',
          json: null,
          seq: this.seq,
          at,
        });
      }
    }
    if (this.pressed()) this.wakeFlusher?.();
  }

  /**
   * Cuts a failed append back out of the journal, so that the batches it held, which are
   * rejected, never come back on reopen. If that fails too, the store refuses every call until
   * reopened (the journal may then replay those batches, whole).
   */
  private async cutJournal(walStart: number, cause: unknown): Promise<void> {
    try {
      await this.wal.truncate(walStart);
    } catch (cutErr) {
      this.broken = unavailable(
        'The store could not undo a failed write and must be reopened',
        cutErr,
      );
      this.logger.error(
        { err: cutErr, cause, dir: this.layout.root },
        'store write failed and could not be undone; refusing further calls until reopened',
      );
      throw this.broken;
    }
    this.logger.warn({ err: cause, dir: this.layout.root }, 'store write failed; nothing applied');
  }

  // ---- the flusher ----

  private startFlusher(): void {
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
      // A batch may have committed between the loop's last check and now.
      if (this.unflushed.size > 0 && !this.stopping) {
        this.startFlusher();
        return;
      }
      // Stopped after a failed round: whoever still waits learns that files are missing.
      const waiters = this.roundWaiters;
      this.roundWaiters = [];
      for (const done of waiters) done(this.unflushed.size);
    });
  }

  /** Past half of maxUnflushed the flusher writes everything at once, young or not. */
  private pressed(): boolean {
    return this.unflushed.size >= this.maxUnflushed / 2;
  }

  /**
   * The versions due now, oldest first: those flushDelayMs old, those someone waits for
   * (flushTarget), or all of them when memory is short or the store is closing.
   */
  private dueRound(): Unflushed[] {
    const all = this.stopping || this.pressed();
    const cutoff = performance.now() - this.flushDelayMs;
    const round: Unflushed[] = [];
    for (const item of this.unflushed.values()) {
      if (round.length >= FLUSH_ROUND_MAX) break;
      if (!all && item.at > cutoff && item.seq > this.flushTarget) break;
      round.push(item);
    }
    return round;
  }

  /** Waits until the oldest unflushed version is due, or until wakeFlusher() is called. */
  private async untilDue(): Promise<void> {
    const oldest = this.unflushed.values().next().value as Unflushed | undefined;
    if (!oldest || this.dueRound().length > 0) return;
    const ms = oldest.at + this.flushDelayMs - performance.now();
    await new Promise<void>((done) => {
      const timer = setTimeout(done, Math.max(1, ms));
      this.wakeFlusher = () => {
        clearTimeout(timer);
        done();
      };
    });
    this.wakeFlusher = undefined;
  }

  /**
   * Writes unflushed documents to their files as they come due, a round at a time, retrying
   * failures. Each document's latest version is written: a draft that moves through four steps
   * within flushDelayMs, or an outbox item sent as soon as it is enqueued, costs one file write.
   */
  private async flushLoop(): Promise<void> {
    let retryMs = 0;
    while (this.unflushed.size > 0) {
      if (retryMs > 0) await sleep(retryMs);
      else await this.untilDue();
      const round = this.dueRound();
      if (round.length === 0) continue;
      this.writingRound = true;
      const failures = await this.writeRound(round);
      this.writingRound = false;
      const waiters = this.roundWaiters;
      this.roundWaiters = [];
      for (const done of waiters) done(failures.length);
      if (failures.length === 0) {
        retryMs = 0;
        continue;
      }
      this.logger.error(
        { err: failures[0], failed: failures.length, dir: this.layout.root },
        'cannot write store document files; they are safe in the journal, retrying',
      );
      if (this.stopping) return;
      retryMs = Math.min(Math.max(retryMs * 2, FLUSH_RETRY_MS), FLUSH_RETRY_MAX_MS);
    }
  }

  /**
   * Writes a round of files on the writer thread; returns the failures. The versions of one pack
   * are appended together, and succeed or fail together.
   */
  private async writeRound(round: readonly Unflushed[]): Promise<unknown[]> {
    const writes: FileWrite[] = [];
    const writeOf: number[] = []; // round item -> its write
    const packWrites = new Map<string, { at: number; lines: string[] }>();
    for (const item of round) {
      const path = this.fileOf(item.collection, item.id);
      const { collection, id, eTag, json } = item;
      if (!this.packs.has(collection)) {
        const text = json === null ? null : docFileParts({ collection, id, eTag, json });
        writeOf.push(writes.push({ path, text }) - 1);
        continue;
      }
      let pack = packWrites.get(path);
      if (!pack) {
        pack = { at: writes.length, lines: [] };
        packWrites.set(path, pack);
        writes.push({ path, text: pack.lines, append: true });
      }
      if (json === null) pack.lines.push(packTombstone(collection, id));
      else pack.lines.push(...packRecordParts({ collection, id, eTag, json }));
      writeOf.push(pack.at);
    }
    let errors: (string | null)[];
    try {
      errors = await this.files.write(writes);
    } catch (err) {
      return round.map(() => err);
    }
    const failures: unknown[] = [];
    this.stats.filesWritten += errors.filter((e) => !e).length;
    round.forEach((item, n) => {
      const { path, append } = writes[writeOf[n] as number] as FileWrite;
      const error = errors[writeOf[n] as number];
      if (error) {
        failures.push(new Error(`Cannot write ${path}: ${error}`));
        return;
      }
      if (item.json !== null || append) this.dirty.add(path);
      this.dirty.add(dirname(path));
      const key = docKey(item.collection, item.id);
      // A newer version committed meanwhile stays for a later round.
      if (this.unflushed.get(key) === item) this.unflushed.delete(key);
    });
    return failures;
  }

  /** Makes the flusher write every version up to `seq` without waiting for it to age. */
  private hurry(seq: number): void {
    this.flushTarget = Math.max(this.flushTarget, seq);
    this.wakeFlusher?.();
  }

  /** Resolves at the end of the flusher's next (or current) round with its failure count. */
  private nextRound(): Promise<number> {
    if (!this.flushing && this.unflushed.size === 0) return Promise.resolve(0);
    return new Promise((done) => {
      this.roundWaiters.push(done);
      this.startFlusher();
    });
  }

  /**
   * Waits until every version committed up to `seq` is in its file, and no round that began
   * before is still writing. Throws if a round fails while some of them are still unwritten.
   * With `now`, those versions are written at once; without, as they come due (a checkpoint).
   */
  private async flushThrough(seq: number, now = true): Promise<void> {
    if (now) this.hurry(seq);
    // The map is in commit order: the first version is the oldest.
    const behind = () => {
      const oldest = this.unflushed.values().next().value as Unflushed | undefined;
      return oldest !== undefined && oldest.seq <= seq;
    };
    if (this.writingRound) await this.nextRound();
    while (behind()) {
      const failed = await this.nextRound();
      if (failed > 0 && behind()) {
        throw new StoreUnavailableError('Store document files could not be written');
      }
    }
  }

  /** Holds new batches while the flusher is too far behind (bounded memory on a slow disk). */
  private async waitForFlusher(): Promise<void> {
    if (this.unflushed.size < this.maxUnflushed) return;
    const started = performance.now();
    this.stats.heldGroups += 1;
    while (this.unflushed.size >= this.maxUnflushed) {
      const failed = await this.nextRound();
      if (failed > 0 && this.unflushed.size >= this.maxUnflushed) {
        throw new StoreUnavailableError(
          'The store cannot write its document files and has too many waiting; try again later',
        );
      }
    }
    this.stats.heldMaxMs = Math.max(this.stats.heldMaxMs, performance.now() - started);
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

  /** Called between groups: starts a new journal and checkpoints the old one in the background. */
  private async maybeCheckpoint(): Promise<void> {
    if (this.checkpointing || this.wal.size < this.checkpointThreshold()) return;
    const gen = this.walGen + 1;
    let next: Journal;
    try {
      next = await this.openJournal(this.layout.walFile(gen));
    } catch (err) {
      // The batch is already committed; the journal just keeps growing until this works.
      this.logger.error({ err, dir: this.layout.root }, 'cannot start a new store journal');
      return;
    }
    const previous = this.wal;
    this.walWriter = next;
    this.walGen = gen;
    // Everything up to here is in the old journals; the table is as of this cut.
    const cutSeq = this.seq;
    const entries = this.table.capture();
    this.checkpointing = previous
      .close()
      .then(() => this.flushThrough(cutSeq, false))
      .then(() => this.checkpoint(entries, gen))
      .catch((err: unknown) => {
        // Nothing is lost: the old journal files stay until a later checkpoint covers them.
        this.logger.error({ err, dir: this.layout.root }, 'store checkpoint failed; will retry');
      })
      .finally(() => {
        this.checkpointing = undefined;
      });
  }

  /**
   * Fsyncs the files written since the last checkpoint (every version the snapshot covers is
   * among them), writes the snapshot of `entries` as of journal `walGen`, drops older journals.
   */
  private async checkpoint(
    entries: Map<string, [string, DocEntry][]>,
    walGen: number,
  ): Promise<void> {
    const started = Date.now();
    const dirty = this.dirty;
    this.dirty = new Set();
    try {
      await mapLimit([...dirty], IO_CONCURRENCY, fsyncPath);
    } catch (err) {
      for (const p of dirty) this.dirty.add(p);
      throw err;
    }
    const chunks = snapshotChunks(walGen, this.spec.recorded, entries);
    this.snapshotBytes = await writeSnapshot(this.layout.snapshot, chunks);
    for (const gen of await this.walGens()) {
      if (gen < walGen) await unlinkIfPresent(this.layout.walFile(gen));
    }
    this.logger.debug(
      {
        dir: this.layout.root,
        walGen,
        flushed: dirty.size,
        ms: Date.now() - started,
      },
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
    const usable = snapshot !== undefined && (await this.spec.matches(snapshot.spec));
    await this.spec.canonical(); // what every checkpoint records: known before the first
    if (usable) this.load(snapshot);

    // Journals older than the snapshot are applied and flushed; newer ones are replayed.
    const fromGen = snapshot?.walGen ?? 0;
    const gens = await this.walGens();
    for (const gen of gens) if (gen < fromGen) await unlinkIfPresent(this.layout.walFile(gen));
    const pending = gens.filter((g) => g >= fromGen);
    const replayed = await this.replay(pending, usable);

    if (!usable) await this.scan();
    this.walGen = Math.max(fromGen, (pending.at(-1) ?? 0) + 1);
    this.walWriter = await this.openJournal(this.layout.walFile(this.walGen));
    if (replayed > 0 || !usable) {
      await this.checkpoint(this.table.capture(), this.walGen);
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
    const docOps: WalOp[] = [];
    const packOps = new Map<string, WalOp[]>();
    for (const op of finals.values()) {
      if (!this.packs.has(op.c)) {
        docOps.push(op);
        continue;
      }
      const path = this.fileOf(op.c, op.id);
      const ops = packOps.get(path);
      if (ops) ops.push(op);
      else packOps.set(path, [op]);
    }
    await mapLimit(docOps, IO_CONCURRENCY, (op) => this.replayOp(op, updateTable));
    await mapLimit([...packOps], IO_CONCURRENCY, ([path, ops]) =>
      this.replayPack(path, ops, updateTable),
    );
    return batches;
  }

  /**
   * Brings a pack up to its documents' journaled versions: keeps its whole lines up to the first
   * torn one (what follows was appended after the last checkpoint, so the journal holds it) and
   * adds a line for each version it lacks. The pack is replaced whole and durably: its older lines
   * are no longer in the journal.
   */
  private async replayPack(path: string, ops: readonly WalOp[], updateTable: boolean): Promise<void> {
    const read = await readPack(path);
    let text = read ? read.text.slice(0, read.pack.validLength) : '';
    let changed = read !== undefined && text.length < read.text.length;
    if (changed) {
      this.logger.warn(
        { path, tornChars: read!.text.length - text.length },
        'store pack ends with a torn line; restoring it from the journal',
      );
    }
    for (const op of ops) {
      const current = read?.pack.docs.get(op.id);
      if ('d' in op) {
        if (current) {
          text += packTombstone(op.c, op.id);
          changed = true;
        }
        if (updateTable) this.table.delete(op.c, op.id);
        continue;
      }
      if (current?.eTag !== op.e) {
        text += packRecordParts({ collection: op.c, id: op.id, eTag: op.e, json: JSON.stringify(op.v) }).join('');
        changed = true;
      }
      if (updateTable) {
        this.table.set(op.c, op.id, { eTag: op.e, keys: this.table.keysFor(op.c, op.v) });
      }
    }
    if (!changed) return;
    await this.ensureDir(dirname(path));
    await writeFileDurably(path, [text]);
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
    // The whole text is compared, not just the eTag: the flusher writes files in place, so a
    // crash can leave a file whose first block is the new version's and the rest the old one's.
    const doc = { collection: op.c, id: op.id, eTag: op.e, json: JSON.stringify(op.v) };
    let current: string | undefined;
    try {
      current = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.logger.warn({ err, path }, 'store document unreadable; restoring it from the journal');
    }
    if (current !== docFileText(doc)) {
      await this.ensureDir(dir);
      await writeDocFile(path, doc);
      this.dirty.add(path);
      this.dirty.add(dir);
    }
    if (updateTable) {
      this.table.set(op.c, op.id, {
        eTag: op.e,
        keys: this.table.keysFor(op.c, op.v),
      });
    }
  }

  /**
   * Rebuilds the table from every document file and pack: first open, or after the indexes or the
   * packs changed. A document found where the packs no longer put it is moved (relocate).
   */
  private async scan(): Promise<void> {
    const started = Date.now();
    const docFiles: string[] = [];
    const packFiles: string[] = [];
    for (const col of await readdir(this.layout.docs, {
      withFileTypes: true,
    })) {
      if (!col.isDirectory()) continue;
      const colDir = join(this.layout.docs, col.name);
      for (const shard of await readdir(colDir, { withFileTypes: true })) {
        if (!shard.isDirectory()) continue;
        const shardDir = join(colDir, shard.name);
        this.knownDirs.add(shardDir);
        for (const name of await readdir(shardDir)) {
          // Names starting with "." are temp files from an interrupted write.
          if (name.startsWith('.')) continue;
          if (name.endsWith('.json')) docFiles.push(join(shardDir, name));
          else if (name.endsWith('.pack')) packFiles.push(join(shardDir, name));
        }
      }
    }
    const found = new Map<string, Found>();
    const add = (doc: DocFileData, path: string) => {
      const key = docKey(doc.collection, doc.id);
      const proper = this.fileOf(doc.collection, doc.id) === path;
      const other = found.get(key);
      // The same document in two places: a move was cut short; where it belongs wins.
      if (other?.proper) return void other.strays.push(path);
      found.set(key, { doc, path, proper, strays: other ? [other.path, ...other.strays] : [] });
    };
    await mapLimit(docFiles, IO_CONCURRENCY, async (path) => {
      const doc = await readDocFile(path);
      if (doc) add(doc, path);
    });
    await mapLimit(packFiles, IO_CONCURRENCY, async (path) => {
      const read = await readPack(path);
      if (!read) return;
      if (read.pack.validLength < read.text.length) {
        this.logger.warn({ path }, 'store pack has a torn or malformed line; reading the lines before it');
      }
      for (const doc of read.pack.docs.values()) if (doc) add(doc, path);
    });
    for (const { doc } of found.values()) {
      const keys = this.table.keysFor(doc.collection, doc.value);
      this.table.set(doc.collection, doc.id, { eTag: doc.eTag, keys });
    }
    const moved = await this.relocate([...found.values()]);
    this.logger.info(
      {
        dir: this.layout.root,
        documents: found.size,
        files: docFiles.length + packFiles.length,
        moved,
        ms: Date.now() - started,
      },
      'store index rebuilt from documents',
    );
  }

  /**
   * Moves the documents a scan found out of place (the packs changed): first each is written where
   * it belongs, durably, then the old copies are removed. A crash between leaves both, and the next
   * open's scan, preferring the one in place, finishes the move. Returns how many moved.
   */
  private async relocate(found: readonly Found[]): Promise<number> {
    const misplaced = found.filter((f) => !f.proper || f.strays.length > 0);
    if (misplaced.length === 0) return 0;
    // Every pack that receives or loses a document is rewritten from what belongs in it.
    const packs = new Map<string, DocFileData[]>();
    const touch = (path: string) => {
      if (path.endsWith('.pack') && !packs.has(path)) packs.set(path, []);
    };
    for (const f of misplaced) {
      touch(this.fileOf(f.doc.collection, f.doc.id));
      if (!f.proper) touch(f.path);
      f.strays.forEach(touch);
    }
    for (const f of found) {
      const into = packs.get(this.fileOf(f.doc.collection, f.doc.id));
      if (into) into.push(f.doc);
    }
    const text = (docs: readonly DocFileData[]) =>
      packText(docs.map((d) => ({ ...d, json: JSON.stringify(d.value) })));
    const leavingFrom = new Map<string, DocFileData[]>();
    for (const f of misplaced) {
      if (f.proper || !packs.has(f.path)) continue;
      const list = leavingFrom.get(f.path);
      if (list) list.push(f.doc);
      else leavingFrom.set(f.path, [f.doc]);
    }
    // 1. Each document where it belongs; a pack that also loses some keeps them for now. A new
    // file is written as it is and fsynced below with the others (a store converted at its first
    // open makes thousands); a pack that exists is replaced durably, as it holds documents that
    // are nowhere else.
    const written = new Set<string>();
    await mapLimit(misplaced, IO_CONCURRENCY, async (f) => {
      if (f.proper || this.packs.has(f.doc.collection)) return;
      const path = this.fileOf(f.doc.collection, f.doc.id);
      await this.ensureDir(dirname(path));
      await writeDocFile(path, { ...f.doc, json: JSON.stringify(f.doc.value) });
      written.add(path);
    });
    await mapLimit([...packs], IO_CONCURRENCY, async ([path, docs]) => {
      const all = [...docs, ...(leavingFrom.get(path) ?? [])];
      if (all.length === 0) return;
      await this.ensureDir(dirname(path));
      if (existsSync(path)) return void (await writeFileDurably(path, [text(all)]));
      await writeFile(path, text(all));
      written.add(path);
    });
    await mapLimit([...written], IO_CONCURRENCY, fsyncPath);
    await mapLimit([...new Set([...written].map((p) => dirname(p)))], IO_CONCURRENCY, fsyncPath);
    // 2. The old copies go: packs lose the documents that left them (a stray copy of one already
    // in place was left out above), old document files are removed.
    await mapLimit([...packs], IO_CONCURRENCY, async ([path, docs]) => {
      if (docs.length === 0) await unlinkIfPresent(path);
      else if (leavingFrom.has(path)) await writeFileDurably(path, [text(docs)]);
      this.dirty.add(dirname(path));
    });
    const oldFiles = misplaced.flatMap((f) => [...(f.proper ? [] : [f.path]), ...f.strays]);
    await mapLimit(oldFiles, IO_CONCURRENCY, async (path) => {
      if (!path.endsWith('.pack')) await unlinkIfPresent(path);
      this.dirty.add(dirname(path));
    });
    return misplaced.filter((f) => !f.proper).length;
  }

  private async shutdown(): Promise<void> {
    while (this.committing) await this.committing;
    this.hurry(this.seq);
    await this.checkpointing;
    // From here a failed flush round is not retried: the journal keeps what it could not write.
    this.stopping = true;
    let failure: unknown;
    try {
      await this.flushThrough(this.seq);
    } catch (err) {
      failure = err;
    }
    try {
      await this.wal.close();
      // A last checkpoint makes the next open read only the snapshot.
      if (!failure && !this.broken && (this.wal.size > 0 || this.dirty.size > 0)) {
        await this.checkpoint(this.table.capture(), this.walGen + 1);
      }
    } catch (err) {
      failure ??= err;
    }
    await this.files.close();
    await this.lock.release();
    const { journalMs, journalMaxMs, heldMaxMs, ...counts } = this.stats;
    this.logger.info(
      {
        dir: this.layout.root,
        ...counts,
        journalMeanMs: Number((journalMs / Math.max(1, counts.journalAppends)).toFixed(2)),
        journalMaxMs: Number(journalMaxMs.toFixed(1)),
        heldMaxMs: Number(heldMaxMs.toFixed(1)),
      },
      'store closed',
    );
    // The journal still holds every write, so a failed last checkpoint loses nothing; say so.
    if (failure) {
      const detail = failure instanceof Error ? failure.message : String(failure);
      throw new StoreUnavailableError(
        `Store closed, but its last checkpoint failed (the journal keeps every write): ${detail}`,
        { cause: failure },
      );
    }
  }

  private assertReadable(): void {
    if (this.closed) throw closedError();
    if (this.broken) throw this.broken;
  }
}

/** A document a scan found, where, and whether that is where the packs put it. */
interface Found {
  doc: DocFileData;
  path: string;
  proper: boolean;
  /** Other places the same document was found (a move cut short). */
  strays: string[];
}

function toStored<T>(id: string, doc: CachedDoc | null): StoredDoc<T> | undefined {
  return doc ? { id, eTag: doc.eTag, value: JSON.parse(doc.json) as T } : undefined;
}

function closedError(): StoreUnavailableError {
  return new StoreUnavailableError('The store is closed');
}

// The one storage port. Every backend (lowdb today, PostgreSQL later) passes test/store/contract.ts.

/** A stored document and its version; eTag changes on every write (botbuilder Storage semantics). */
export interface StoredDoc<T> {
  id: string;
  value: T;
  eTag: string;
}

/**
 * One write inside an atomic batch.
 * - `ifMatch: '<eTag>'` rejects the batch if the document changed since it was read;
 * - `ifMatch: 'absent'` rejects it if the document already exists (create-once, for idempotency);
 * - no ifMatch: last writer wins.
 */
export type WriteOp =
  | { op: 'put'; collection: string; id: string; value: unknown; ifMatch?: string }
  | { op: 'delete'; collection: string; id: string; ifMatch?: string };

/** Pulls the values a document is findable by, e.g. a ticket's reporter id. Must be pure. */
export type IndexFn = (value: any) => string | string[] | undefined;

/** collection -> index name -> extractor. Declared once, at open. */
export type IndexSpec = Record<string, Record<string, IndexFn>>;

/**
 * collection -> how its documents group: those whose ids share the text before the first
 * `separator` are written and read together (an outbox item `<ticket>:…` with its ticket's other
 * messages). A layout hint: the lowdb store keeps each group in one file it appends to
 * (packFile.ts); a backend without the need may ignore it.
 */
export type PackSpec = Record<string, { separator: string }>;

/**
 * Joins the index specs several modules declare, collection by collection (two modules may index
 * the same collection). Throws on an index name declared twice rather than keep only one.
 */
export function mergeIndexes(...specs: IndexSpec[]): IndexSpec {
  const out: IndexSpec = {};
  for (const spec of specs)
    for (const [collection, indexes] of Object.entries(spec)) {
      const into = (out[collection] ??= {});
      for (const [name, fn] of Object.entries(indexes)) {
        if (into[name]) throw new Error(`index ${collection}.${name} is declared twice`);
        into[name] = fn;
      }
    }
  return out;
}

// The registry's symbol, not a private one: the benchmark loads the built product beside the
// sources, two copies of this module that must agree on it.
const INDEX_VERSION = Symbol.for('fo-support-teams.indexVersion');

/**
 * The spec with a version of its own, which the store's record of its indexes includes beside the
 * extractors' text: the indexes are rebuilt from the documents when either changes. An extractor's
 * text does not show what it calls (a helper, a set of step names it reads), so when such a
 * helper's answer changes, the version is what must change. test/services/appIndexes.test.ts
 * fails until it does.
 */
export function versionedIndexes(spec: IndexSpec, version: number): IndexSpec {
  const out: IndexSpec = { ...spec };
  // Not enumerable: whatever walks the spec's collections never sees it.
  Object.defineProperty(out, INDEX_VERSION, { value: version, enumerable: false });
  return out;
}

/** The version versionedIndexes gave a spec, if any. */
export function indexVersionOf(spec: IndexSpec): number | undefined {
  const version = (spec as { [INDEX_VERSION]?: unknown })[INDEX_VERSION];
  return typeof version === 'number' ? version : undefined;
}

export interface Store {
  get<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined>;
  /**
   * Applies every op or none, atomically and durably (after it resolves, a crash loses nothing).
   * Rejects with ConflictError (nothing written) when an ifMatch does not hold.
   * Resolves with the new eTag of each op (empty string for deletes), in order.
   */
  write(ops: WriteOp[]): Promise<string[]>;
  /** Documents of a collection whose declared index `index` yields `key`. Order unspecified. */
  find<T>(collection: string, index: string, key: string): Promise<StoredDoc<T>[]>;
  /**
   * Optional: the ids and eTags of the documents find() would return, without reading them. A
   * poller that already holds most of them (the outbox) reads only the new or changed ones.
   */
  findETags?(
    collection: string,
    index: string,
    key: string,
  ): Promise<{ id: string; eTag: string }[]>;
  /**
   * Optional: every document of a collection that yields keys for `index`, with those keys, from
   * the index alone (no document read). A scheduler keeps its due times in an index and learns
   * them all at start-up this way.
   */
  indexEntries?(collection: string, index: string): Promise<{ id: string; keys: string[] }[]>;
  /** Number of documents in a collection. */
  count(collection: string): Promise<number>;
  /** Finishes writes in flight, then releases files and connections. Later calls reject. */
  close(): Promise<void>;
}

/** A stale or conflicting write: the caller re-reads and decides again. */
export class ConflictError extends Error {
  readonly code = 'store.conflict';
  constructor(
    readonly collection: string,
    readonly id: string,
    readonly expected: string,
  ) {
    super(`Conflict writing ${collection}/${id} (expected ${expected})`);
    this.name = 'ConflictError';
  }
}

/** The store could not read or write (disk full, permissions, database down). */
export class StoreUnavailableError extends Error {
  readonly code = 'store.unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

// The in-memory part of a store: which documents exist, their eTags, and the secondary indexes.
// It holds no document values, so 50,000 tickets cost a few megabytes, not the whole data set.
// Kept compact because it grows with the store (measured by bench/storeMemory.ts): a document's
// only key for an index is a string, not a one-element array, and a key that only one document
// yields maps to that id, not to a Set.

import type { IndexSpec } from './store.js';

/** Index name -> the key a document yields for it, or its keys when several (deduplicated). */
export type IndexKeys = Record<string, string | string[]>;

/** The keys of one index as a list. */
export function keyList(keys: string | readonly string[]): readonly string[] {
  return typeof keys === 'string' ? [keys] : keys;
}

/** What the table knows about one document. Never mutated after creation (snapshots share it). */
export interface DocEntry {
  readonly eTag: string;
  readonly keys?: IndexKeys;
}

/** Thrown when `find` names an index that was not declared for the collection (a coding error). */
export class UndeclaredIndexError extends Error {
  constructor(collection: string, index: string) {
    super(`Index "${index}" is not declared for collection "${collection}"`);
    this.name = 'UndeclaredIndexError';
  }
}

/** Documents per collection with their eTags, plus key -> ids maps for every declared index. */
export class IndexTable {
  private readonly docs = new Map<string, Map<string, DocEntry>>();
  // collection -> index -> key -> the one id that yields it, or the ids
  private readonly reverse = new Map<string, Map<string, Map<string, string | Set<string>>>>();

  constructor(private readonly spec: IndexSpec) {}

  /** Whether the collection has declared indexes. */
  indexed(collection: string): boolean {
    return this.spec[collection] !== undefined;
  }

  /** Runs the collection's extractors; throws if one throws or yields a non-string key. */
  keysFor(collection: string, value: unknown): IndexKeys | undefined {
    const indexes = this.spec[collection];
    if (!indexes) return undefined;
    const keys: IndexKeys = {};
    let any = false;
    for (const [name, extract] of Object.entries(indexes)) {
      const raw = extract(value);
      if (raw === undefined || raw === null) continue;
      const list = Array.isArray(raw) ? raw : [raw];
      for (const k of list) {
        if (typeof k !== 'string') {
          throw new TypeError(`Index ${collection}.${name} yielded a ${typeof k}, not a string`);
        }
      }
      if (list.length === 0) continue;
      const unique = [...new Set(list)];
      keys[name] = unique.length === 1 ? (unique[0] as string) : unique;
      any = true;
    }
    return any ? keys : undefined;
  }

  /** Whether `value` still yields `key` for the index (guards reads that raced a write). */
  matches(collection: string, index: string, key: string, value: unknown): boolean {
    const extract = this.spec[collection]?.[index];
    if (!extract) return false;
    const raw = extract(value);
    return Array.isArray(raw) ? raw.includes(key) : raw === key;
  }

  get(collection: string, id: string): DocEntry | undefined {
    return this.docs.get(collection)?.get(id);
  }

  set(collection: string, id: string, entry: DocEntry): void {
    let col = this.docs.get(collection);
    if (!col) {
      col = new Map();
      this.docs.set(collection, col);
    }
    const old = col.get(id);
    col.set(id, entry);
    // Only the indexes whose keys changed are touched: most writes change one or two of a
    // document's indexes (a ticket's status, not its reporter), and unlinking a key only to link
    // it again churned the sets of ids that share it.
    if (old?.keys) this.unlink(collection, id, old.keys, entry.keys);
    if (entry.keys) this.link(collection, id, entry.keys, old?.keys);
  }

  delete(collection: string, id: string): void {
    const col = this.docs.get(collection);
    const old = col?.get(id);
    if (!col || !old) return;
    if (old.keys) this.unlink(collection, id, old.keys);
    col.delete(id);
  }

  /** Ids whose index `index` yields `key`; throws UndeclaredIndexError for an unknown index. */
  lookup(collection: string, index: string, key: string): string[] {
    if (!this.spec[collection]?.[index]) throw new UndeclaredIndexError(collection, index);
    const ids = this.reverse.get(collection)?.get(index)?.get(key);
    if (ids === undefined) return [];
    return typeof ids === 'string' ? [ids] : [...ids];
  }

  /** Ids and eTags of the documents whose index `index` yields `key`, with no document read. */
  lookupETags(collection: string, index: string, key: string): { id: string; eTag: string }[] {
    return this.lookup(collection, index, key).map((id) => ({
      id,
      eTag: this.get(collection, id)!.eTag,
    }));
  }

  /** Every document of the collection that has keys for `index`, with them. */
  entries(collection: string, index: string): { id: string; keys: string[] }[] {
    if (!this.spec[collection]?.[index]) throw new UndeclaredIndexError(collection, index);
    const out: { id: string; keys: string[] }[] = [];
    for (const [id, entry] of this.docs.get(collection) ?? []) {
      const keys = entry.keys?.[index];
      if (keys) out.push({ id, keys: [...keyList(keys)] });
    }
    return out;
  }

  count(collection: string): number {
    return this.docs.get(collection)?.size ?? 0;
  }

  /** Ids of a collection at this instant. */
  ids(collection: string): string[] {
    return [...(this.docs.get(collection)?.keys() ?? [])];
  }

  /** A point-in-time copy of every entry, cheap because entries are immutable. */
  capture(): Map<string, [string, DocEntry][]> {
    const out = new Map<string, [string, DocEntry][]>();
    for (const [collection, col] of this.docs) if (col.size > 0) out.set(collection, [...col]);
    return out;
  }

  /** Links `id` under its keys, except in the indexes where it already has the same keys (`had`). */
  private link(collection: string, id: string, keys: IndexKeys, had?: IndexKeys): void {
    let byIndex = this.reverse.get(collection);
    if (!byIndex) {
      byIndex = new Map();
      this.reverse.set(collection, byIndex);
    }
    for (const [index, list] of Object.entries(keys)) {
      if (had && sameKeys(had[index], list)) continue;
      let byKey = byIndex.get(index);
      if (!byKey) {
        byKey = new Map();
        byIndex.set(index, byKey);
      }
      for (const key of keyList(list)) {
        const ids = byKey.get(key);
        if (ids === undefined) byKey.set(key, id);
        else if (typeof ids !== 'string') ids.add(id);
        else if (ids !== id) byKey.set(key, new Set([ids, id]));
      }
    }
  }

  /** Unlinks `id` from its keys, except in the indexes where it keeps the same keys (`keep`). */
  private unlink(collection: string, id: string, keys: IndexKeys, keep?: IndexKeys): void {
    const byIndex = this.reverse.get(collection);
    if (!byIndex) return;
    for (const [index, list] of Object.entries(keys)) {
      if (keep && sameKeys(keep[index], list)) continue;
      const byKey = byIndex.get(index);
      if (!byKey) continue;
      for (const key of keyList(list)) {
        const ids = byKey.get(key);
        if (ids === undefined) continue;
        if (typeof ids === 'string') {
          // Drop the key when its last document goes, so short-lived keys do not leak memory.
          if (ids === id) byKey.delete(key);
          continue;
        }
        ids.delete(id);
        if (ids.size === 1) byKey.set(key, ids.values().next().value as string);
        else if (ids.size === 0) byKey.delete(key);
      }
    }
  }
}

/** Whether an index gives the same keys, in the same order, in two entries. */
function sameKeys(a: string | string[] | undefined, b: string | string[]): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof b === 'string' || a === undefined) return false;
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

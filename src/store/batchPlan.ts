// Checks a batch against the current eTags and turns it into concrete operations, before anything
// is written: a conflict or a bad op rejects the whole batch with nothing applied.

import { randomBytes } from 'node:crypto';
import type { IndexKeys } from './indexTable.js';
import { ConflictError, type WriteOp } from './store.js';

/** One op of a batch that passed its checks, with the value in the form it is stored (JSON). */
export type PlannedOp =
  | {
      kind: 'put';
      collection: string;
      id: string;
      eTag: string;
      /** The value as stored: its JSON text. */
      json: string;
      keys: IndexKeys | undefined;
    }
  | { kind: 'delete'; collection: string; id: string };

export interface PlanDeps {
  eTagOf(collection: string, id: string): string | undefined;
  /** Whether the collection has declared indexes (if not, its values are not parsed back). */
  indexed(collection: string): boolean;
  keysFor(collection: string, value: unknown): IndexKeys | undefined;
}

/** An unambiguous key for a document: the length prefix keeps "a/b"+"c" apart from "a"+"b/c". */
export function docKey(collection: string, id: string): string {
  return `${collection.length}:${collection}/${id}`;
}

// eTags: 72 random bits drawn once per process, then a counter. Never repeated across restarts
// (a bare counter would be), and without a call into the system's random source per document
// version, which showed in the profiles of write-heavy turns.
const ETAG_PREFIX = randomBytes(9).toString('base64url');
let eTagCount = 0;

/** A fresh eTag, unique across processes and restarts. */
export function newETag(): string {
  eTagCount += 1;
  return `${ETAG_PREFIX}${eTagCount.toString(36)}`;
}

/**
 * Validates every op and checks its ifMatch against the state the batch itself builds up (a batch
 * that writes a document twice sees its own first write). Throws ConflictError or TypeError.
 */
export function planBatch(ops: readonly WriteOp[], deps: PlanDeps): PlannedOp[] {
  if (!Array.isArray(ops)) throw new TypeError('write() takes an array of ops');
  // docKey -> eTag after the earlier ops of this batch (null: deleted)
  const pending = new Map<string, string | null>();
  const planned: PlannedOp[] = [];
  for (const op of ops) {
    checkShape(op);
    const key = docKey(op.collection, op.id);
    const current = pending.has(key) ? pending.get(key) : deps.eTagOf(op.collection, op.id);
    if (op.ifMatch !== undefined) {
      const holds = op.ifMatch === 'absent' ? current == null : current === op.ifMatch;
      if (!holds) throw new ConflictError(op.collection, op.id, op.ifMatch);
    }
    if (op.op === 'put') {
      const json = JSON.stringify(op.value);
      if (json === undefined) {
        throw new TypeError(`Value of ${op.collection}/${op.id} cannot be stored as JSON`);
      }
      // Index the value as it will be read back (dates become strings, undefined fields vanish):
      // the value itself when it is plain JSON already, which it is for the app's documents, else
      // its JSON parsed back (parsing a ticket back cost more than checking it).
      const keys = deps.indexed(op.collection)
        ? deps.keysFor(op.collection, isPlainJson(op.value) ? op.value : JSON.parse(json))
        : undefined;
      const eTag = newETag();
      planned.push({ kind: 'put', collection: op.collection, id: op.id, eTag, json, keys });
      pending.set(key, eTag);
    } else {
      planned.push({ kind: 'delete', collection: op.collection, id: op.id });
      pending.set(key, null);
    }
  }
  return planned;
}

/**
 * Whether a value reads back from its JSON text unchanged: strings, finite numbers, booleans, null,
 * and arrays and plain objects of them, with no undefined anywhere (JSON drops or nulls it), no
 * toJSON (a Date), no other prototype. Depth-limited; deeper values are simply parsed back.
 */
export function isPlainJson(value: unknown, depth = 0): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (depth > 32) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      if ('toJSON' in value) return false;
      for (const k in value) {
        if (!isPlainJson((value as Record<string, unknown>)[k], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function checkShape(op: WriteOp): void {
  if (op === null || typeof op !== 'object') throw new TypeError('A write op must be an object');
  if (op.op !== 'put' && op.op !== 'delete') {
    throw new TypeError(`Unknown write op "${String((op as { op: unknown }).op)}"`);
  }
  if (typeof op.collection !== 'string' || op.collection === '') {
    throw new TypeError('A write op needs a non-empty collection');
  }
  if (typeof op.id !== 'string' || op.id === '') {
    throw new TypeError('A write op needs a non-empty id');
  }
  if (op.ifMatch !== undefined && (typeof op.ifMatch !== 'string' || op.ifMatch === '')) {
    throw new TypeError('ifMatch must be an eTag or "absent"');
  }
}

// A Store held in process memory, for fast unit tests. Same semantics as the lowdb store (it passes
// the same contract suite), including JSON copies in and out so callers cannot alias stored values.

import { docKey, planBatch } from './batchPlan.js';
import { IndexTable } from './indexTable.js';
import { SerialQueue } from './serialQueue.js';
import {
  StoreUnavailableError,
  type IndexSpec,
  type Store,
  type StoredDoc,
  type WriteOp,
} from './store.js';

export interface MemoryStoreOptions {
  indexes?: IndexSpec;
}

/** An in-memory Store: nothing survives the process. */
export class MemoryStore implements Store {
  private readonly table: IndexTable;
  private readonly values = new Map<string, string>(); // docKey -> JSON of the value
  private readonly queue = new SerialQueue();
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.table = new IndexTable(options.indexes ?? {});
  }

  async get<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    this.assertOpen();
    return this.read<T>(collection, id);
  }

  write(ops: WriteOp[]): Promise<string[]> {
    if (this.closed) return Promise.reject(closedError());
    return this.queue.run(async () => {
      const plan = planBatch(ops, {
        eTagOf: (c, id) => this.table.get(c, id)?.eTag,
        indexed: (c) => this.table.indexed(c),
        keysFor: (c, v) => this.table.keysFor(c, v),
      });
      return plan.map((op) => {
        const key = docKey(op.collection, op.id);
        if (op.kind === 'put') {
          this.table.set(op.collection, op.id, { eTag: op.eTag, keys: op.keys });
          this.values.set(key, op.json);
          return op.eTag;
        }
        this.table.delete(op.collection, op.id);
        this.values.delete(key);
        return '';
      });
    });
  }

  async find<T>(collection: string, index: string, key: string): Promise<StoredDoc<T>[]> {
    this.assertOpen();
    const docs: StoredDoc<T>[] = [];
    for (const id of this.table.lookup(collection, index, key)) {
      const doc = this.read<T>(collection, id);
      if (doc) docs.push(doc);
    }
    return docs;
  }

  async findETags(
    collection: string,
    index: string,
    key: string,
  ): Promise<{ id: string; eTag: string }[]> {
    this.assertOpen();
    return this.table.lookupETags(collection, index, key);
  }

  async indexEntries(collection: string, index: string): Promise<{ id: string; keys: string[] }[]> {
    this.assertOpen();
    return this.table.entries(collection, index);
  }

  async count(collection: string): Promise<number> {
    this.assertOpen();
    return this.table.count(collection);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.idle();
  }

  private read<T>(collection: string, id: string): StoredDoc<T> | undefined {
    const entry = this.table.get(collection, id);
    const json = this.values.get(docKey(collection, id));
    if (!entry || json === undefined) return undefined;
    return { id, value: JSON.parse(json) as T, eTag: entry.eTag };
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function closedError(): StoreUnavailableError {
  return new StoreUnavailableError('The store is closed');
}

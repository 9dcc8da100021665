// Wraps a Store and fails writes on demand, so tests can exercise "the ticket cannot be saved"
// without filling a disk.

import { StoreUnavailableError, type Store, type StoredDoc, type WriteOp } from './store.js';

/** A Store whose next N writes (or all) reject with StoreUnavailableError, writing nothing. */
export class FaultyStore implements Store {
  private failuresLeft = 0;
  private failingAll = false;
  /** How many writes were rejected on purpose so far. */
  injectedFailures = 0;

  /** Offered when the wrapped store offers it. */
  readonly indexEntries?: Store['indexEntries'];

  constructor(readonly inner: Store) {
    const entries = inner.indexEntries?.bind(inner);
    if (entries) this.indexEntries = (collection, index) => entries(collection, index);
  }

  /** Fails the next `n` calls to write(), then lets writes through again. */
  failNextWrites(n = 1): this {
    this.failuresLeft = n;
    return this;
  }

  /** Fails every write until heal() is called. */
  failAllWrites(): this {
    this.failingAll = true;
    return this;
  }

  /** Lets every write through again. */
  heal(): this {
    this.failingAll = false;
    this.failuresLeft = 0;
    return this;
  }

  get<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    return this.inner.get<T>(collection, id);
  }

  write(ops: WriteOp[]): Promise<string[]> {
    if (this.failingAll || this.failuresLeft > 0) {
      if (this.failuresLeft > 0) this.failuresLeft -= 1;
      this.injectedFailures += 1;
      const cause = Object.assign(new Error('ENOSPC: no space left on device (injected)'), {
        code: 'ENOSPC',
      });
      return Promise.reject(new StoreUnavailableError('Injected write failure', { cause }));
    }
    return this.inner.write(ops);
  }

  find<T>(collection: string, index: string, key: string): Promise<StoredDoc<T>[]> {
    return this.inner.find<T>(collection, index, key);
  }

  async findETags(
    collection: string,
    index: string,
    key: string,
  ): Promise<{ id: string; eTag: string }[]> {
    if (this.inner.findETags) return this.inner.findETags(collection, index, key);
    return (await this.inner.find(collection, index, key)).map(({ id, eTag }) => ({ id, eTag }));
  }

  count(collection: string): Promise<number> {
    return this.inner.count(collection);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

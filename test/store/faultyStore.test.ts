import { expect } from 'chai';
import { FaultyStore } from '../../src/store/faultyStore.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { StoreUnavailableError, type WriteOp } from '../../src/store/store.js';
import { expectRejection, storeContract } from './contract.js';

const op = (id: string): WriteOp => ({ op: 'put', collection: 'tickets', id, value: { id } });

describe('FaultyStore', () => {
  it('fails the next N writes with StoreUnavailableError, writing nothing, then recovers', async () => {
    const store = new FaultyStore(new MemoryStore()).failNextWrites(2);
    await expectRejection(store.write([op('a')]), StoreUnavailableError);
    await expectRejection(store.write([op('b')]), StoreUnavailableError);
    await store.write([op('c')]);
    expect(await store.count('tickets')).to.equal(1);
    expect(store.injectedFailures).to.equal(2);
  });

  it('fails every write until healed, while reads keep working', async () => {
    const store = new FaultyStore(new MemoryStore());
    await store.write([op('a')]);
    store.failAllWrites();
    for (let i = 0; i < 3; i += 1)
      await expectRejection(store.write([op('b')]), StoreUnavailableError);
    expect(await store.get('tickets', 'a')).to.not.equal(undefined);
    store.heal();
    await store.write([op('b')]);
    expect(await store.count('tickets')).to.equal(2);
  });

  it('gives the failure an ENOSPC cause, like a full disk', async () => {
    const store = new FaultyStore(new MemoryStore()).failNextWrites();
    const err = await expectRejection(store.write([op('a')]), StoreUnavailableError);
    expect((err.cause as NodeJS.ErrnoException).code).to.equal('ENOSPC');
  });
});

storeContract('faulty(memory) when healthy', async (indexes) => ({
  store: new FaultyStore(new MemoryStore({ indexes })),
  cleanup: async () => undefined,
}));

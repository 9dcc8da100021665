import { expect } from 'chai';
import type { Ticket } from '../../src/domain/ticket.js';
import { COLLECTIONS, INDEXES } from '../../src/services/collections.js';
import { writeNewTicket } from '../../src/services/ticketWriter.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { ConflictError, type Store, type WriteOp } from '../../src/store/store.js';

describe('writeNewTicket', () => {
  it('numbers 50 tickets submitted at once without a conflict reaching the caller', async () => {
    let writes = 0;
    const inner = new MemoryStore({ indexes: INDEXES });
    const store: Store = Object.assign(Object.create(inner), {
      write: (ops: WriteOp[]) => {
        writes++;
        return inner.write(ops);
      },
    });
    const tickets = await Promise.all(Array.from({ length: 50 }, () => writeNewTicket(store, build, () => []).then((w) => w.ticket)));
    expect(new Set(tickets.map((t) => t.id)).size).to.equal(50);
    expect(writes).to.equal(50); // one write each: no retry storm
    expect((await inner.get<{ next: number }>(COLLECTIONS.counters, 'tickets'))?.value.next).to.equal(100051);
  });

  const build = (seq: number) => ({ id: `INC-${seq}`, reporter: { aadObjectId: 'a' } }) as unknown as Ticket;
  // A Store object of its own over the same data: as another process (or a restart) would see it.
  const view = (inner: Store): Store => Object.create(inner) as Store;

  it('returns the batch it wrote with the eTags the store gave it', async () => {
    const inner = new MemoryStore({ indexes: INDEXES });
    const extra: WriteOp = { op: 'put', collection: 'notes', id: 'N-1', value: { n: 1 } };
    const { ticket, written } = await writeNewTicket(inner, build, () => [extra]);
    expect(written.ops.map((op) => `${op.collection}/${op.id}`)).to.deep.equal([
      `${COLLECTIONS.counters}/tickets`,
      `${COLLECTIONS.tickets}/${ticket.id}`,
      'notes/N-1',
    ]);
    expect(written.eTags[1]).to.equal((await inner.get(COLLECTIONS.tickets, ticket.id))?.eTag);
    expect(written.eTags[2]).to.equal((await inner.get('notes', 'N-1'))?.eTag);
  });

  it('goes on from the stored counter after a restart', async () => {
    const inner = new MemoryStore({ indexes: INDEXES });
    await Promise.all(Array.from({ length: 3 }, () => writeNewTicket(view(inner), build, () => [])));
    const { ticket: after } = await writeNewTicket(view(inner), build, () => []);
    expect(after.id).to.equal('INC-100004');
  });

  it('moves past a number another process took, without a duplicate', async () => {
    const inner = new MemoryStore({ indexes: INDEXES });
    const a = view(inner);
    const b = view(inner);
    await writeNewTicket(a, build, () => []); // a reads the counter: 100001 is next
    await writeNewTicket(b, build, () => []); // b reads it too, then takes 100002
    const { ticket: fromA } = await writeNewTicket(a, build, () => []); // a thinks 100002 is next: taken
    expect(fromA.id).to.equal('INC-100003');
    expect(await inner.count(COLLECTIONS.tickets)).to.equal(3);
    expect((await inner.get<{ next: number }>(COLLECTIONS.counters, 'tickets'))?.value.next).to.equal(100004);
  });

  it('passes a stale draft up to the caller and writes nothing for it', async () => {
    const inner = new MemoryStore({ indexes: INDEXES });
    const [eTag] = await inner.write([{ op: 'put', collection: COLLECTIONS.drafts, id: 'D-1', value: { step: 'contact', conversation: { id: 'c' }, reporter: { aadObjectId: 'a' } } }]);
    const done: WriteOp[] = [{ op: 'put', collection: COLLECTIONS.drafts, id: 'D-1', value: { step: 'done' }, ifMatch: eTag }];
    const { ticket: first } = await writeNewTicket(inner, build, () => done);
    const err = await writeNewTicket(inner, build, () => done).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConflictError);
    expect((err as ConflictError).collection).to.equal(COLLECTIONS.drafts);
    expect(await inner.count(COLLECTIONS.tickets)).to.equal(1);
    expect(first.id).to.equal('INC-100001');
    // The refused batch gave its number back.
    expect((await writeNewTicket(inner, build, () => [])).ticket.id).to.equal('INC-100002');
  });
});

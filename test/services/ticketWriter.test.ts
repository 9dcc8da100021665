import { expect } from 'chai';
import type { Ticket } from '../../src/domain/ticket.js';
import { COLLECTIONS, INDEXES } from '../../src/services/collections.js';
import { writeNewTicket } from '../../src/services/ticketWriter.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import type { Store, WriteOp } from '../../src/store/store.js';

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
    const build = (seq: number) => ({ id: `INC-${seq}`, reporter: { aadObjectId: 'a' } }) as unknown as Ticket;
    const tickets = await Promise.all(Array.from({ length: 50 }, () => writeNewTicket(store, build, () => [])));
    expect(new Set(tickets.map((t) => t.id)).size).to.equal(50);
    expect(writes).to.equal(50); // one write each: no retry storm
    expect((await inner.get<{ next: number }>(COLLECTIONS.counters, 'tickets'))?.value.next).to.equal(100051);
  });
});

import type { Ticket } from '../domain/ticket.js';
import { ConflictError, type Store, type WriteOp } from '../store/store.js';
import { COLLECTIONS } from './collections.js';

const MAX_NUMBER_RETRIES = 8;

/**
 * Takes the next ticket number (one counter for outages and incidents) and writes the ticket with
 * `withOps(ticket)` (the draft moving to done, the desk's writes) in one atomic write. When another
 * ticket took the number meanwhile, takes the next one; any other conflict (a stale draft: a
 * double click or a replay) goes up to the caller, so it never creates a second ticket.
 */
export async function writeNewTicket(
  store: Store,
  build: (seq: number) => Ticket,
  withOps: (t: Ticket) => WriteOp[],
): Promise<Ticket> {
  for (let attempt = 0; ; attempt++) {
    const counter = await store.get<{ next: number }>(COLLECTIONS.counters, 'tickets');
    const seq = counter?.value.next ?? 100001;
    const ticket = build(seq);
    try {
      await store.write([
        { op: 'put', collection: COLLECTIONS.counters, id: 'tickets', value: { next: seq + 1 }, ifMatch: counter?.eTag ?? 'absent' },
        { op: 'put', collection: COLLECTIONS.tickets, id: ticket.id, value: ticket, ifMatch: 'absent' },
        ...withOps(ticket),
      ]);
      return ticket;
    } catch (err) {
      const numberTaken = err instanceof ConflictError && err.collection !== COLLECTIONS.drafts;
      if (!numberTaken || attempt >= MAX_NUMBER_RETRIES) throw err;
    }
  }
}

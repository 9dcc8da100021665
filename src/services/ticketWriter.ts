import { describeTarget, type Target } from '../domain/sla.js';
import type { Ticket } from '../domain/ticket.js';
import type { ConversationContext } from '../domain/user.js';
import type { WrittenBatch } from '../outbox/outboxItem.js';
import { ConflictError, type Store, type WriteOp } from '../store/store.js';
import { COLLECTIONS } from './collections.js';

const MAX_NUMBER_RETRIES = 8;
const FIRST_NUMBER = 100001;

/**
 * Hands out ticket numbers in this process without waiting for the store: the counter document is
 * read once, then every new ticket's batch writes it as "next = the highest number handed out so
 * far + 1". Batches commit in the order write() is called (Store contract), and a number is taken
 * synchronously just before its batch is built, so the stored counter never goes back and is
 * always past every ticket committed. A batch that is refused (a stale draft, a store that cannot
 * write) gives its number back if no later one was taken, else leaves a gap in the numbers. Several processes sharing one store would
 * take the same number: the ticket's `ifMatch: 'absent'` refuses the second, which then moves past
 * the stored counter and that ticket and tries again (a multi-instance Store should give an atomic
 * sequence instead).
 */
class TicketNumbers {
  private next: number | undefined;
  private loading: Promise<void> | undefined;

  constructor(private readonly store: Store) {}

  /** The next number; reads the stored counter the first time. */
  async take(): Promise<number> {
    if (this.next === undefined) {
      this.loading ??= this.load().finally(() => {
        this.loading = undefined;
      });
      await this.loading;
    }
    const seq = this.next as number;
    this.next = seq + 1;
    return seq;
  }

  /** Gives back `seq` when its batch was refused and no later number was taken: no gap then. */
  giveBack(seq: number): void {
    if (this.next === seq + 1) this.next = seq;
  }

  /** What the counter document must hold after a batch that took numbers up to now. */
  get counterValue(): { next: number } {
    return { next: this.next ?? FIRST_NUMBER };
  }

  /** Another process took `seq`: move past it and past what the store says. */
  async skipPast(seq: number): Promise<void> {
    const stored = await this.store.get<{ next: number }>(COLLECTIONS.counters, 'tickets');
    this.next = Math.max(this.next ?? FIRST_NUMBER, seq + 1, stored?.value.next ?? FIRST_NUMBER);
  }

  private async load(): Promise<void> {
    const stored = await this.store.get<{ next: number }>(COLLECTIONS.counters, 'tickets');
    // Another take() may have loaded it meanwhile (after a failed load): never go back.
    this.next = Math.max(this.next ?? FIRST_NUMBER, stored?.value.next ?? FIRST_NUMBER);
  }
}

const allocators = new WeakMap<Store, TicketNumbers>();

function numbersFor(store: Store): TicketNumbers {
  let numbers = allocators.get(store);
  if (!numbers) {
    numbers = new TicketNumbers(store);
    allocators.set(store, numbers);
  }
  return numbers;
}

/**
 * Takes the next ticket number (one counter for outages and incidents) and writes the ticket with
 * `withOps(ticket)` (the draft moving to done, the desk's writes) in one atomic write. When another
 * process took the number meanwhile, takes the next one; any other conflict (a stale draft: a
 * double click or a replay) goes up to the caller, so it never creates a second ticket.
 */
export async function writeNewTicket(
  store: Store,
  build: (seq: number) => Ticket,
  withOps: (t: Ticket) => WriteOp[],
): Promise<{ ticket: Ticket; written: WrittenBatch }> {
  const numbers = numbersFor(store);
  for (let attempt = 0; ; attempt++) {
    const seq = await numbers.take();
    const ticket = build(seq);
    const ops: WriteOp[] = [
      { op: 'put', collection: COLLECTIONS.counters, id: 'tickets', value: numbers.counterValue },
      { op: 'put', collection: COLLECTIONS.tickets, id: ticket.id, value: ticket, ifMatch: 'absent' },
      ...withOps(ticket),
    ];
    try {
      const eTags = await store.write(ops);
      return { ticket, written: { ops, eTags } };
    } catch (err) {
      const numberTaken = err instanceof ConflictError && err.collection === COLLECTIONS.tickets && err.id === ticket.id;
      if (!numberTaken) numbers.giveBack(seq); // refused whole: nothing of it was written
      if (!numberTaken || attempt >= MAX_NUMBER_RETRIES) throw err;
      await numbers.skipPast(seq);
    }
  }
}

/** What every new ticket takes from the draft it came from. */
export interface TicketSource {
  id: string;
  tenantId: string;
  reporter: Ticket['reporter'];
  contact: Ticket['contact'];
  timeZone: string;
  conversation: ConversationContext;
}

/**
 * The fields an outage and an incident share when created: the running SLA clock (warned
 * `warningLeadMinutes` before it is due, and at least a minute before), where it came from, its
 * first timeline entry.
 */
export function newTicketFields(
  draft: TicketSource,
  opts: { now: Date; sla: { kind: Ticket['sla']['kind']; target: Target; due: Date }; warningLeadMinutes: number; activityId?: string; submitted: string },
) {
  const at = opts.now.toISOString();
  const lead = Math.min(opts.warningLeadMinutes, opts.sla.target.minutes - 1);
  return {
    rev: 0,
    status: 'submitted' as const,
    sla: {
      kind: opts.sla.kind,
      target: describeTarget(opts.sla.target),
      dueAt: opts.sla.due.toISOString(),
      warnAt: new Date(opts.sla.due.getTime() - lead * 60_000).toISOString(),
    },
    deliveryProblems: [],
    tenantId: draft.tenantId,
    reporter: draft.reporter,
    contact: draft.contact,
    submittedAt: at,
    ackDueAt: opts.sla.due.toISOString(),
    timeZone: draft.timeZone,
    origin: {
      conversationId: draft.conversation.id,
      conversationKind: draft.conversation.kind,
      ...(opts.activityId ? { activityId: opts.activityId } : {}),
    },
    draftId: draft.id,
    timeline: [{ at, by: { aadObjectId: draft.reporter.aadObjectId, name: draft.reporter.name }, type: 'submitted' as const, text: opts.submitted }],
  };
}

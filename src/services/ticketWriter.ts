import { describeTarget, type Target } from '../domain/sla.js';
import type { Ticket } from '../domain/ticket.js';
import type { ConversationContext } from '../domain/user.js';
import { ConflictError, type Store, type WriteOp } from '../store/store.js';
import { COLLECTIONS } from './collections.js';

const MAX_NUMBER_RETRIES = 8;

// New tickets of one process take their numbers one at a time: with 50 submissions at once, racing
// on the counter's eTag made each retry a full store write and ended in "too many changes" (500).
// The retry loop below stays for several processes sharing one store.
const queues = new WeakMap<Store, Promise<unknown>>();

function oneAtATime<T>(store: Store, task: () => Promise<T>): Promise<T> {
  const run = (queues.get(store) ?? Promise.resolve()).then(task, task);
  queues.set(store, run.catch(() => undefined));
  return run;
}

/**
 * Takes the next ticket number (one counter for outages and incidents) and writes the ticket with
 * `withOps(ticket)` (the draft moving to done, the desk's writes) in one atomic write. When another
 * ticket took the number meanwhile, takes the next one; any other conflict (a stale draft: a
 * double click or a replay) goes up to the caller, so it never creates a second ticket.
 */
export function writeNewTicket(
  store: Store,
  build: (seq: number) => Ticket,
  withOps: (t: Ticket) => WriteOp[],
): Promise<Ticket> {
  return oneAtATime(store, () => takeNumberAndWrite(store, build, withOps));
}

async function takeNumberAndWrite(
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

import type { Directory } from '../directory.js';
import { type Deadline, pendingDeadlines, type Person, type Ticket } from '../domain/ticket.js';
import type { UserContext } from '../domain/user.js';
import { messageView, type View } from '../flows/views.js';
import type { Logger } from '../logger.js';
import type { DeliveryError } from '../outbox/notifier.js';
import {
  enqueuedDocs,
  enqueueOps,
  newOutboxItem,
  type OutboxItem,
  type OutboxItemInput,
  type RenderedPayload,
  type SendablePayload,
  type WrittenBatch,
} from '../outbox/outboxItem.js';
import { COLLECTIONS } from '../services/collections.js';
import { ConflictError, type Store, type StoredDoc, StoreUnavailableError, type WriteOp } from '../store/store.js';
import type { Clock } from '../time.js';
import { applyDeskAction, type DeskAction, type News } from './deskActions.js';
import { deskCardView, newsView, statusView, ticketListView } from './deskViews.js';

// The support desk loop (SPEC §5): the desk card, desk actions, the reporter's news, the SLA
// clock's warning and escalation, and what happens when a message cannot be delivered. Every
// state change and the messages it causes are one store write (the ticket + outbox items); the
// SLA deadlines follow from the ticket (pendingDeadlines), so they change in that write too.

const MAX_CONFLICT_RETRIES = 8;
// The outbox items of a new ticket (newTicketOps writes them, ticketCreated wakes the outbox).
const newDeskCardId = (t: Ticket) => `${t.id}:desk:card`;
const linkedPostId = (t: Ticket) => `${t.id}:linked:submitted`;

export interface DeskHooks {
  /** After a write that enqueued these outbox items (as written), so delivery starts at once. */
  wakeOutbox(items: StoredDoc<OutboxItem>[]): void;
  /** After a write that changed a ticket's pending deadlines: what they are now. */
  deadlinesChanged(ticketId: string, pending: Deadline[]): void;
}

export class DeskService {
  private hooks: DeskHooks = { wakeOutbox: () => {}, deadlinesChanged: () => {} };

  constructor(private readonly deps: { store: Store; directory: Directory; clock: Clock; logger: Logger }) {}

  /** Wired by the composition root once the outbox and scheduler exist. */
  setHooks(hooks: DeskHooks): void {
    this.hooks = hooks;
  }

  private get deskConversation(): string {
    return this.deps.directory.desk.channel.channelId;
  }

  isDeskMember(user: { aadObjectId: string }): boolean {
    return this.deps.directory.desk.members.some((m) => m.aadObjectId === user.aadObjectId.toLowerCase());
  }

  // ---- a new ticket ----------------------------------------------------------------------

  /** The writes that go with a new ticket: its desk card and the linked channel's post. */
  newTicketOps(t: Ticket): WriteOp[] {
    const now = this.deps.clock.now();
    const items: OutboxItemInput[] = [
      {
        id: newDeskCardId(t),
        op: 'post',
        target: { conversationId: this.deskConversation },
        payload: { kind: 'deskCard', ticketId: t.id },
        ticketId: t.id,
      },
    ];
    const linked = this.linkedChannel(t);
    if (linked)
      items.push({
        id: linkedPostId(t),
        op: 'post',
        target: { conversationId: linked },
        payload: {
          kind: 'card',
          ...newsView(t, `${t.reporter.name} reported ${t.kind === 'outage' ? 'a production outage' : 'an incident'}: ${t.id}`, t.title, now),
        },
        ticketId: t.id,
      });
    return this.enqueue(items, now);
  }

  /** After the ticket's write succeeded: `written` is that write (newTicketOps' items among it). */
  ticketCreated(t: Ticket, written: WrittenBatch): void {
    this.hooks.deadlinesChanged(t.id, pendingDeadlines(t));
    this.hooks.wakeOutbox(enqueuedDocs(written.ops, written.eTags));
  }

  // ---- desk actions ------------------------------------------------------------------------

  /** A button on the desk card. Returns the card as the clicker should now see it. */
  async act(user: UserContext, action: DeskAction): Promise<View> {
    const { store, directory, clock } = this.deps;
    const id = action.data.ticketId;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const stored = await store.get<Ticket>(COLLECTIONS.tickets, id);
      if (!stored) return messageView('Ticket not found', `There is no ticket ${id}.`);
      const ticket = stored.value;
      const now = clock.now();
      if (!this.isDeskMember(user))
        return deskCardView(ticket, directory, now, {
          notice: `Only members of ${directory.desk.name} can act on tickets. Nothing was changed.`,
        });
      const actor: Person = { aadObjectId: user.aadObjectId, name: user.name };
      const org = directory.organizations.find((o) => o.id === ticket.orgId);
      const project = org?.projects.find((p) => p.id === ticket.projectId);
      const result = applyDeskAction(ticket, action, {
        now,
        actor,
        queues: directory.desk.queues,
        plan: project?.supportPlan ?? 'subscription',
        slaTable: directory.sla.table,
        timeZone: org?.timeZone ?? 'UTC',
        businessHours: org?.businessHours ?? { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] },
        warningLeadMinutes: directory.sla.warningLeadMinutes,
      });
      if (!result.changed) return deskCardView(ticket, directory, now, { errors: result.errors });
      const next = result.ticket;
      const ops: WriteOp[] = [
        { op: 'put', collection: COLLECTIONS.tickets, id, value: next, ifMatch: stored.eTag },
        ...this.enqueue([this.deskCardUpdate(next), ...this.newsItems(next, result.news, now)], now),
      ];
      let eTags: string[];
      try {
        eTags = await store.write(ops);
      } catch (err) {
        if (err instanceof ConflictError) continue; // another engineer got there first: decide again
        if (err instanceof StoreUnavailableError) {
          this.deps.logger.error({ err, ticketId: id }, 'cannot save a desk action');
          return deskCardView(ticket, directory, now, { notice: "Couldn't save that just now; nothing changed. Try again." });
        }
        throw err;
      }
      this.deps.logger.info({ ticketId: id, verb: action.verb, by: actor.aadObjectId }, 'desk action');
      const deadlines = pendingDeadlines(next);
      if (!sameDeadlines(pendingDeadlines(ticket), deadlines)) this.hooks.deadlinesChanged(id, deadlines);
      this.hooks.wakeOutbox(enqueuedDocs(ops, eTags));
      return deskCardView(next, directory, now);
    }
    throw new Error(`ticket ${id}: too many concurrent changes`);
  }

  // ---- the SLA clock -----------------------------------------------------------------------

  /**
   * A warning or escalation deadline is due: sets the ticket's warnedAt / escalatedAt and enqueues
   * its messages in one write, with ifMatch on the ticket, so it fires once however many schedulers
   * run it. Does nothing when the ticket moved on (acknowledged, resolved, fired, SLA moved later).
   */
  async onDeadline(d: Deadline): Promise<void> {
    const { store, directory, clock } = this.deps;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const stored = await store.get<Ticket>(COLLECTIONS.tickets, d.ticketId);
      if (!stored) return;
      const t = stored.value;
      const now = clock.now();
      const due = pendingDeadlines(t).find((p) => p.kind === d.kind);
      if (!due || Date.parse(due.at) > now.getTime()) return;
      const next: Ticket = { ...t, rev: t.rev + 1, sla: { ...t.sla }, timeline: [...t.timeline] };
      const system: Person = { aadObjectId: 'system', name: 'SLA clock' };
      const items: OutboxItemInput[] = [];
      const what = t.sla.kind === 'acknowledgement' ? 'acknowledgement' : 'first response';
      // A transfer starts a new SLA clock, which may warn and escalate again: new item ids then.
      const fired = t.timeline.filter((e) => e.type === (d.kind === 'warn' ? 'warning' : 'escalated')).length;
      const event = `${d.kind === 'warn' ? 'warn' : 'escalate'}${fired > 0 ? `-${fired + 1}` : ''}`;
      if (d.kind === 'warn') {
        next.sla.warnedAt = now.toISOString();
        const left = Math.max(0, Math.round((Date.parse(t.sla.dueAt) - now.getTime()) / 60_000));
        const text = `${t.id} (severity ${t.severity}) is not acknowledged: the ${what} is due in ${left} minutes.`;
        next.timeline.push({ at: now.toISOString(), by: system, type: 'warning', text });
        items.push(this.deskReply(t.id, event, { kind: 'text', text: `⚠️ ${text}` }));
      } else {
        next.sla.escalatedAt = now.toISOString();
        const contacts = directory.desk.escalationContacts;
        const text = `${t.id} (severity ${t.severity}) missed its ${what} deadline and is escalated.`;
        next.timeline.push({ at: now.toISOString(), by: system, type: 'escalated', text });
        items.push(
          this.deskReply(t.id, event, {
            kind: 'text',
            text: `🚨 ESCALATION: ${text}${contacts.length ? ` ${contacts.map((c) => `<at>${c.name}</at>`).join(' ')}` : ''}`,
            mentions: contacts.map((c) => ({ id: c.aadObjectId, name: c.name })),
          }),
          ...this.newsItems(
            next,
            [
              {
                audience: 'reporter',
                event: fired > 0 ? `escalated-${fired + 1}` : 'escalated',
                title: `${t.id} escalated`,
                text: `Your ${t.kind === 'outage' ? 'outage' : 'incident'} was not ${what === 'acknowledgement' ? 'acknowledged' : 'answered'} within its target, so it has been escalated to the support managers. You will hear here as soon as an engineer takes it.`,
              },
            ],
            now,
          ),
        );
      }
      items.push(this.deskCardUpdate(next));
      const ops: WriteOp[] = [{ op: 'put', collection: COLLECTIONS.tickets, id: t.id, value: next, ifMatch: stored.eTag }, ...this.enqueue(items, now)];
      let eTags: string[];
      try {
        eTags = await store.write(ops);
      } catch (err) {
        // The ticket changed (or another scheduler fired it, or its items exist): decide again.
        if (err instanceof ConflictError) continue;
        throw err;
      }
      this.deps.logger.warn({ ticketId: t.id, kind: d.kind }, d.kind === 'warn' ? 'SLA warning' : 'SLA escalation');
      this.hooks.wakeOutbox(enqueuedDocs(ops, eTags));
      return;
    }
    throw new Error(`ticket ${d.ticketId}: too many concurrent changes to fire its ${d.kind} deadline`);
  }

  // ---- delivery outcomes (outbox hooks) ------------------------------------------------------

  /** A message could not be delivered (bot removed, conversation gone): record it, tell the desk. */
  async onPermanentFailure(item: OutboxItem, error: DeliveryError): Promise<WriteOp[]> {
    if (!item.ticketId) return [];
    const stored = await this.deps.store.get<Ticket>(COLLECTIONS.tickets, item.ticketId);
    if (!stored) return [];
    const now = this.deps.clock.now();
    const t = stored.value;
    const message = error.message;
    const next: Ticket = {
      ...t,
      rev: t.rev + 1,
      deliveryProblems: [...t.deliveryProblems, { at: now.toISOString(), conversationId: item.target.conversationId, message }],
      timeline: [
        ...t.timeline,
        { at: now.toISOString(), by: { aadObjectId: 'system', name: 'Delivery' }, type: 'delivery-failed', text: `A message to ${item.target.conversationId} could not be delivered (${message}).` },
      ],
    };
    const ops: WriteOp[] = [{ op: 'put', collection: COLLECTIONS.tickets, id: t.id, value: next, ifMatch: stored.eTag }];
    // Tell the desk, unless the desk itself is what cannot be reached (that would loop).
    if (item.conversationId !== this.deskConversation)
      ops.push(...this.enqueue([this.deskCardUpdate(next)], now));
    return ops;
  }

  // ---- reading -----------------------------------------------------------------------------

  /** "status OUT-100001": visible to its reporter, members of its project (same tenant) and the desk. */
  async status(user: UserContext, ticketId: string): Promise<View> {
    const id = ticketId.trim().toUpperCase();
    const stored = await this.deps.store.get<Ticket>(COLLECTIONS.tickets, id);
    if (!stored || !this.canSee(user, stored.value))
      return messageView('Ticket not found', `I can't find ${id} among the tickets you can see. Type “my tickets” for yours.`);
    return statusView(stored.value, this.deps.directory, this.deps.clock.now());
  }

  /** "my tickets": the user's own tickets, newest first. */
  async myTickets(user: UserContext): Promise<View> {
    const mine = await this.deps.store.find<Ticket>(COLLECTIONS.tickets, 'reporter', user.aadObjectId.toLowerCase());
    const tickets = mine
      .map((d) => d.value)
      .filter((t) => t.tenantId === user.tenantId.toLowerCase())
      .sort((a, b) => b.submittedAt.localeCompare(a.submittedAt))
      .slice(0, 20);
    return ticketListView(tickets, this.deps.clock.now(), mine.length > 20 ? `The 20 newest of ${mine.length}.` : '');
  }

  /** The desk; else, in the ticket's tenant, its reporter and its project's members. */
  canSee(user: UserContext, t: Ticket): boolean {
    if (this.isDeskMember(user)) return true;
    if (t.tenantId !== user.tenantId.toLowerCase()) return false;
    if (t.reporter.aadObjectId === user.aadObjectId.toLowerCase()) return true;
    const org = this.deps.directory.organizations.find((o) => o.id === t.orgId);
    return !!org?.projects.find((p) => p.id === t.projectId)?.members.some((m) => m.aadObjectId === user.aadObjectId.toLowerCase());
  }

  // ---- message building ----------------------------------------------------------------------

  /**
   * The outbox's renderer (OutboxDeps.render): a ticket's desk card as the ticket is now. The
   * items that post and update desk cards name the ticket instead of holding its card.
   */
  async render(payload: RenderedPayload): Promise<SendablePayload | undefined> {
    const stored = await this.deps.store.get<Ticket>(COLLECTIONS.tickets, payload.ticketId);
    if (!stored) return undefined;
    return { kind: 'card', ...deskCardView(stored.value, this.deps.directory, this.deps.clock.now()) };
  }

  private enqueue(items: OutboxItemInput[], now: Date): WriteOp[] {
    return enqueueOps(items.map((i) => newOutboxItem(i, now)));
  }

  private linkedChannel(t: Ticket): string | undefined {
    const org = this.deps.directory.organizations.find((o) => o.id === t.orgId);
    return org?.projects.find((p) => p.id === t.projectId)?.linkedChannel?.channelId;
  }

  /** Updates the ticket's desk card to show the ticket as it is when the update goes. */
  private deskCardUpdate(t: Ticket): OutboxItemInput {
    return {
      id: `${t.id}:desk:card:r${t.rev}`,
      op: 'update',
      target: { conversationId: this.deskConversation, activityOf: `${t.id}:desk:card` },
      payload: { kind: 'deskCard', ticketId: t.id },
      ticketId: t.id,
    };
  }

  private deskReply(ticketId: string, event: string, payload: OutboxItemInput['payload']): OutboxItemInput {
    return {
      id: `${ticketId}:desk:${event}`,
      op: 'reply',
      target: { conversationId: this.deskConversation, threadOf: `${ticketId}:desk:card` },
      payload,
      ticketId,
    };
  }

  /** The reporter's conversation (a thread reply where it was a channel) and the linked channel. */
  private newsItems(t: Ticket, news: News[], now: Date): OutboxItemInput[] {
    const items: OutboxItemInput[] = [];
    for (const n of news.filter((x) => x.audience === 'reporter')) {
      const payload = { kind: 'card' as const, ...newsView(t, n.title, n.text, now) };
      items.push({ id: `${t.id}:${n.event}:reporter`, op: 'post', target: { conversationId: t.origin.conversationId }, payload, ticketId: t.id });
      const linked = this.linkedChannel(t);
      if (linked)
        items.push({
          id: `${t.id}:${n.event}:linked`,
          op: 'reply',
          target: { conversationId: linked, threadOf: `${t.id}:linked:submitted` },
          payload,
          ticketId: t.id,
        });
    }
    return items;
  }
}

function sameDeadlines(a: readonly Deadline[], b: readonly Deadline[]): boolean {
  return a.length === b.length && a.every((d, i) => d.id === b[i]!.id && d.at === b[i]!.at);
}

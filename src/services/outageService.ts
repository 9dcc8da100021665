import { randomUUID } from 'node:crypto';
import type { Directory } from '../directory.js';
import { outageEligibility, type Eligibility } from '../domain/eligibility.js';
import { OUTAGE_TARGET } from '../domain/sla.js';
import { OUTAGE_ACK_MINUTES, type Ticket, ticketNumber } from '../domain/ticket.js';
import type { ConversationContext, UserContext } from '../domain/user.js';
import type { Logger } from '../logger.js';
import {
  advance,
  type FlowContext,
  isActive,
  type OutageAction,
  type OutageDraft,
  startDraft,
} from '../flows/outageFlow.js';
import { messageView, outageView, refusedView, type View } from '../flows/views.js';
import { ConflictError, type Store, StoreUnavailableError, type WriteOp } from '../store/store.js';
import { type Clock, formatClock, isTimeZone } from '../time.js';
import { COLLECTIONS } from './collections.js';
import type { WrittenBatch } from '../outbox/outboxItem.js';
import { newTicketFields, writeNewTicket } from './ticketWriter.js';

/** Extra facts about the invoke that the ticket keeps (the card's message, for thread replies). */
export interface ActionOrigin {
  activityId?: string;
}

const MAX_CONFLICT_RETRIES = 8;

/** Runs the outage flow against the store: drafts, the ticket, idempotency and failure. */
export class OutageService {
  constructor(
    private readonly deps: {
      store: Store;
      directory: Directory;
      clock: Clock;
      logger: Logger;
      newId?: () => string;
      /** The organisation the user chose to work in, if they chose one. */
      currentOrganization?: (user: UserContext) => Promise<string | undefined>;
      /** The desk loop: writes that go with a new ticket (desk card, deadlines), and a call after. */
      newTicket?: { ops(t: Ticket): WriteOp[]; created(t: Ticket, written: WrittenBatch): void };
      /** "My situation isn't listed": the normal incident flow, prefilled from the outage draft. */
      notListed?: (user: UserContext, draft: OutageDraft) => Promise<View>;
    },
  ) {}

  private async context(user: UserContext): Promise<{ eligibility: Eligibility; ctx: FlowContext }> {
    // A user who chose a current organisation (LCS: the name in the corner) reports within it.
    const orgId = await this.deps.currentOrganization?.(user);
    const eligibility = outageEligibility(this.deps.directory, user, orgId);
    return {
      eligibility,
      ctx: {
        targets: eligibility.targets,
        scenarios: this.deps.directory.outageScenarios,
        now: this.deps.clock.now(),
        ...(user.email ? { profileEmail: user.email } : {}),
      },
    };
  }

  private timeZoneOf(user: UserContext, eligibility: Eligibility): string {
    if (isTimeZone(user.timeZone)) return user.timeZone;
    return eligibility.orgs[0]?.timeZone ?? 'UTC';
  }

  /** "report outage": continue the user's open draft in this conversation, or start one. */
  async start(user: UserContext, conversation: ConversationContext): Promise<View> {
    const { eligibility, ctx } = await this.context(user);
    const { store, directory } = this.deps;
    if (eligibility.targets.length === 0) return refusedView(directory, eligibility.refusals);
    const extras = { refusals: eligibility.refusals };
    try {
      const open = await store.find<OutageDraft>(COLLECTIONS.drafts, 'active', activeKey(conversation.id, user.aadObjectId));
      const resumed = open.map((d) => d.value).filter(isActive).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
      if (resumed) {
        const since = formatClock(resumed.createdAt, resumed.timeZone);
        return outageView(resumed, ctx, directory, {
          ...extras,
          notice: `Continuing the outage report you started at ${since}. Cancel it to start over.`,
        });
      }
      const draft = startDraft(this.deps.newId?.() ?? randomUUID(), user, conversation, ctx, this.timeZoneOf(user, eligibility));
      await store.write([{ op: 'put', collection: COLLECTIONS.drafts, id: draft.id, value: draft, ifMatch: 'absent' }]);
      return outageView(draft, ctx, directory, extras);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.deps.logger.error({ err }, 'cannot start an outage draft');
      return refusedView(directory, [], unavailableNotice);
    }
  }

  /** A card action on a draft. Replays, double clicks and stale cards return the current state. */
  async act(user: UserContext, action: OutageAction, origin: ActionOrigin = {}): Promise<View> {
    const { store, directory } = this.deps;
    const { eligibility, ctx } = await this.context(user);
    const extras = { refusals: eligibility.refusals };
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      let stored;
      try {
        stored = await store.get<OutageDraft>(COLLECTIONS.drafts, action.data.draftId);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        this.deps.logger.error({ err }, 'cannot read an outage draft');
        return refusedView(directory, [], unavailableNotice);
      }
      if (!stored)
        return messageView('This report is no longer available', 'Type “report outage” to start a new one.');
      const draft = stored.value;
      if (draft.reporter.aadObjectId !== user.aadObjectId)
        return this.viewOf(draft, ctx, {
          ...extras,
          notice: `This outage report belongs to ${draft.reporter.name}. Type “report outage” to start your own.`,
        });
      if (draft.step === 'notListed' && this.deps.notListed) return this.deps.notListed(user, draft); // a replay
      if (!isActive(draft) || action.data.rev !== draft.rev)
        return this.viewOf(draft, ctx, extras); // replay or an older card: show where it stands
      const { draft: next, effects } = advance(draft, action, ctx);
      // The latest activity tells the user's zone best (a chat message may not carry one).
      if (isTimeZone(user.timeZone)) next.timeZone = user.timeZone;
      try {
        if (effects.some((e) => e.type === 'submitTicket')) {
          const ticket = await this.submit(next, stored.eTag, origin);
          return outageView(ticket ? { ...next, step: 'done', ticketId: ticket.id } : next, ctx, directory, { ticket });
        }
        await store.write([{ op: 'put', collection: COLLECTIONS.drafts, id: next.id, value: next, ifMatch: stored.eTag }]);
        if (next.step === 'notListed' && this.deps.notListed) return this.deps.notListed(user, next);
        return outageView(next, ctx, directory, extras);
      } catch (err) {
        if (err instanceof ConflictError) continue; // someone else moved the draft: decide again
        if (!(err instanceof StoreUnavailableError)) throw err;
        this.deps.logger.error({ err, draftId: draft.id }, 'cannot save the outage draft or ticket');
        // Show the card again with everything typed, against the stored revision so Next retries.
        return outageView({ ...next, rev: draft.rev, step: next.step === 'done' ? 'contact' : next.step }, ctx, directory, {
          ...extras,
          saveFailed: true,
          notice: unavailableNotice,
        });
      }
    }
    throw new Error(`outage draft ${action.data.draftId}: too many concurrent changes`);
  }

  /**
   * Creates the ticket, moves the draft to done and takes the next number in one atomic write.
   * The draft's eTag makes a double click or a replayed invoke lose (ConflictError), never create.
   */
  private async submit(draft: OutageDraft, draftETag: string, origin: ActionOrigin): Promise<Ticket> {
    const { store, directory, clock } = this.deps;
    const { ticket, written } = await writeNewTicket(
      store,
      (seq) => buildTicket(draft, directory, seq, clock.now(), origin),
      (t) => [
        { op: 'put', collection: COLLECTIONS.drafts, id: draft.id, value: { ...draft, step: 'done', ticketId: t.id }, ifMatch: draftETag },
        ...(this.deps.newTicket?.ops(t) ?? []),
      ],
    );
    this.deps.newTicket?.created(ticket, written);
    this.deps.logger.info({ ticketId: ticket.id, projectId: ticket.projectId }, 'outage ticket created');
    return ticket;
  }

  private async viewOf(draft: OutageDraft, ctx: FlowContext, extras: Parameters<typeof outageView>[3]): Promise<View> {
    if (draft.step === 'done' && draft.ticketId) {
      const t = await this.deps.store.get<Ticket>(COLLECTIONS.tickets, draft.ticketId);
      return outageView(draft, ctx, this.deps.directory, { ...extras, ...(t ? { ticket: t.value } : {}) });
    }
    return outageView(draft, ctx, this.deps.directory, extras);
  }
}

const unavailableNotice =
  "We couldn't save your report just now. Nothing you typed is lost: try again in a moment, or " +
  'call phone support now if your business is stopped.';

export function activeKey(conversationId: string, aadObjectId: string): string {
  return `${conversationId}|${aadObjectId.toLowerCase()}`;
}

export function buildTicket(draft: OutageDraft, directory: Directory, seq: number, now: Date, origin: ActionOrigin): Ticket {
  const org = directory.organizations.find((o) => o.projects.some((p) => p.id === draft.projectId));
  const project = org?.projects.find((p) => p.id === draft.projectId);
  const environment = project?.environments.find((e) => e.id === draft.environmentId);
  const scenario = directory.outageScenarios.find((s) => s.id === draft.scenarioId);
  if (!org || !project || !environment) throw new Error(`draft ${draft.id} points at a missing project`);
  return {
    id: ticketNumber('outage', seq),
    kind: 'outage',
    severity: 'A',
    queue: directory.desk.queues[0]!.id,
    orgId: org.id,
    projectId: project.id,
    projectName: project.name,
    environmentId: environment.id,
    environmentName: environment.name,
    ...(scenario ? { scenarioId: scenario.id, scenarioTitle: scenario.title } : {}),
    title: draft.title,
    details: draft.details,
    ...newTicketFields(draft, {
      now,
      sla: { kind: 'acknowledgement', target: OUTAGE_TARGET, due: new Date(now.getTime() + OUTAGE_ACK_MINUTES * 60_000) },
      warningLeadMinutes: directory.sla.warningLeadMinutes,
      ...(origin.activityId ? { activityId: origin.activityId } : {}),
      submitted: 'Outage reported (severity A).',
    }),
  };
}

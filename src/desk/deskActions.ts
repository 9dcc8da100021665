import { z } from 'zod';
import type { BusinessHours, SlaTable, SupportPlanKind } from '../domain/sla.js';
import { describeTarget, dueAt, PLAN_LABELS } from '../domain/sla.js';
import type { Person, Severity, Ticket, TimelineEntry } from '../domain/ticket.js';
import type { Queue } from '../directory.js';

// What the support desk can do to a ticket (SPEC §5), as a pure function: the next ticket, and the
// news each audience must hear. Idempotent: acknowledging an acknowledged ticket changes nothing.

const TicketId = z.string().min(1).max(40);
const Rev = z.coerce.number().int().min(0);
const Text = (max: number) => z.string().max(max).optional();

export const DeskAction = z.discriminatedUnion('verb', [
  z.object({ verb: z.literal('desk.acknowledge'), data: z.object({ ticketId: TicketId, rev: Rev }) }),
  z.object({ verb: z.literal('desk.assign'), data: z.object({ ticketId: TicketId, rev: Rev }) }),
  z.object({ verb: z.literal('desk.update'), data: z.object({ ticketId: TicketId, rev: Rev, updateText: Text(4000) }) }),
  z.object({
    verb: z.literal('desk.transfer'),
    data: z.object({ ticketId: TicketId, rev: Rev, transferTo: Text(80), severity: Text(2), transferReason: Text(1000) }),
  }),
  z.object({ verb: z.literal('desk.resolve'), data: z.object({ ticketId: TicketId, rev: Rev, resolution: Text(4000) }) }),
  z.object({ verb: z.literal('desk.reopen'), data: z.object({ ticketId: TicketId, rev: Rev, reopenReason: Text(1000) }) }),
]);
export type DeskAction = z.infer<typeof DeskAction>;

/** Who hears about a change. */
export type Audience = 'reporter' | 'desk';

export interface News {
  audience: Audience;
  /** Stable for the event, so the outbox de-duplicates a replay: e.g. "ack", "update-3". */
  event: string;
  title: string;
  text: string;
}

export interface DeskContext {
  now: Date;
  actor: Person;
  queues: Queue[];
  plan: SupportPlanKind;
  slaTable: SlaTable;
  timeZone: string;
  businessHours: BusinessHours;
  warningLeadMinutes: number;
}

export interface DeskResult {
  ticket: Ticket;
  /** False when the action changed nothing (a replay, or already in that state). */
  changed: boolean;
  errors: Record<string, string>;
  news: News[];
}

/** Whole minutes from submission to acknowledgement. */
export function minutesBetween(from: string, to: Date): number {
  return Math.max(0, Math.round((to.getTime() - new Date(from).getTime()) / 60_000));
}

export function applyDeskAction(ticket: Ticket, action: DeskAction, ctx: DeskContext): DeskResult {
  const at = ctx.now.toISOString();
  const unchanged = (errors: Record<string, string> = {}): DeskResult => ({ ticket, changed: false, errors, news: [] });
  const next: Ticket = { ...ticket, rev: ticket.rev + 1, timeline: [...ticket.timeline] };
  const log = (type: TimelineEntry['type'], text: string) => next.timeline.push({ at, by: ctx.actor, type, text });
  const done = (news: News[]): DeskResult => ({ ticket: next, changed: true, errors: {}, news });
  const n = next.timeline.length; // event ids derive from the timeline position: stable per change
  const what = ticket.kind === 'outage' ? 'outage' : 'incident';

  switch (action.verb) {
    case 'desk.acknowledge': {
      if (ticket.acknowledged) return unchanged();
      if (ticket.status === 'resolved') return unchanged({ ticket: 'This ticket is resolved; reopen it first.' });
      const minutes = minutesBetween(ticket.submittedAt, ctx.now);
      const met = ctx.now.getTime() <= new Date(ticket.sla.dueAt).getTime();
      next.acknowledged = { at, by: ctx.actor, minutes, met };
      next.status = 'acknowledged';
      next.assignee ??= ctx.actor;
      const target = ticket.sla.target.split(',')[0];
      const verdict = met ? `within the ${target} target` : `missing the ${target} target`;
      log('acknowledged', `Acknowledged ${minutes} minutes after submission, ${verdict}.`);
      return done([
        {
          audience: 'reporter',
          event: 'ack',
          title: `${ticket.id} acknowledged by ${ctx.actor.name}`,
          text: `${ctx.actor.name} from Microsoft Support acknowledged your ${what} “${ticket.title}” ${minutes} minutes after submission, ${verdict}. They are working on it and will post status updates here.`,
        },
      ]);
    }
    case 'desk.assign': {
      if (ticket.assignee?.aadObjectId === ctx.actor.aadObjectId) return unchanged();
      next.assignee = ctx.actor;
      log('assigned', `Assigned to ${ctx.actor.name}.`);
      return done([
        {
          audience: 'reporter',
          event: `assign-${n}`,
          title: `${ticket.id}: ${ctx.actor.name} is taking it`,
          text: `${ctx.actor.name} from Microsoft Support now owns your ${what} “${ticket.title}”.`,
        },
      ]);
    }
    case 'desk.update': {
      const text = (action.data.updateText ?? '').trim();
      if (text.length < 3) return unchanged({ updateText: 'Write the status update for the customer.' });
      // A double click or a replayed invoke carries the same card revision and text: post once.
      const last = ticket.timeline.findLast((e) => e.type === 'update');
      if (action.data.rev < ticket.rev && last?.text === text && last.by.aadObjectId === ctx.actor.aadObjectId)
        return unchanged();
      log('update', text);
      return done([
        { audience: 'reporter', event: `update-${n}`, title: `${ticket.id}: status update from ${ctx.actor.name}`, text },
      ]);
    }
    case 'desk.transfer': {
      const to = action.data.transferTo ?? '';
      const reason = (action.data.transferReason ?? '').trim();
      const errors: Record<string, string> = {};
      if (reason.length < 3) errors.transferReason = 'Say why, for the customer.';
      if (ticket.status === 'resolved') errors.transferTo = 'This ticket is resolved; reopen it first.';
      if (to === 'incident') {
        if (ticket.kind !== 'outage') errors.transferTo = 'This is already a normal incident.';
        const severity = action.data.severity as Severity | undefined;
        if (!severity || !['A', 'B', 'C'].includes(severity)) errors.severity = 'Choose the incident severity.';
        if (Object.keys(errors).length > 0) return unchanged(errors);
        const target = ctx.slaTable[ctx.plan][severity!];
        const due = dueAt(ctx.now, target, ctx.timeZone, ctx.businessHours);
        next.kind = 'incident';
        next.severity = severity!;
        next.queue = ctx.queues.find((q) => q.id !== ticket.queue)?.id ?? ticket.queue;
        if (!ticket.acknowledged)
          next.sla = {
            kind: 'response',
            target: describeTarget(target),
            dueAt: due.toISOString(),
            warnAt: new Date(due.getTime() - ctx.warningLeadMinutes * 60_000).toISOString(),
          };
        const sla = `${PLAN_LABELS[ctx.plan]}, severity ${severity}: first response within ${describeTarget(target)}`;
        log('transferred', `Transferred to a normal incident (${sla}). ${reason}`);
        return done([
          {
            audience: 'reporter',
            event: `transfer-${n}`,
            title: `${ticket.id} is now a normal incident`,
            text: `Microsoft Support found that this is not a production outage, so it continues as a normal incident with the SLA of your plan (${sla}). Why: ${reason}`,
          },
        ]);
      }
      const queue = ctx.queues.find((q) => q.id === to);
      if (!queue) errors.transferTo = 'Choose where to transfer the ticket.';
      else if (queue.id === ticket.queue) errors.transferTo = `It is already in ${queue.name}.`;
      if (Object.keys(errors).length > 0) return unchanged(errors);
      next.queue = queue!.id;
      log('transferred', `Transferred to ${queue!.name}. ${reason}`);
      return done([
        {
          audience: 'reporter',
          event: `transfer-${n}`,
          title: `${ticket.id} moved to ${queue!.name}`,
          text: `Your ${what} moved to the ${queue!.name} team. Why: ${reason}`,
        },
      ]);
    }
    case 'desk.resolve': {
      if (ticket.status === 'resolved') return unchanged();
      const resolution = (action.data.resolution ?? '').trim();
      if (resolution.length < 3) return unchanged({ resolution: 'Write the resolution for the customer.' });
      next.status = 'resolved';
      next.resolution = resolution;
      log('resolved', resolution);
      return done([
        {
          audience: 'reporter',
          event: `resolve-${n}`,
          title: `${ticket.id} resolved`,
          text: `${ctx.actor.name} resolved your ${what} “${ticket.title}”. Resolution: ${resolution} If it is not solved, tell us here and the desk can reopen it.`,
        },
      ]);
    }
    case 'desk.reopen': {
      if (ticket.status !== 'resolved') return unchanged();
      const reason = (action.data.reopenReason ?? '').trim();
      next.status = ticket.acknowledged ? 'acknowledged' : 'submitted';
      delete next.resolution;
      log('reopened', reason ? `Reopened: ${reason}` : 'Reopened.');
      return done([
        {
          audience: 'reporter',
          event: `reopen-${n}`,
          title: `${ticket.id} reopened`,
          text: `${ctx.actor.name} reopened your ${what}${reason ? `: ${reason}` : '.'}`,
        },
      ]);
    }
  }
}

// A ticket: a production outage today, a support incident later. Stored whole in `tickets`.

export const OUTAGE_ACK_MINUTES = 30;

export interface Contact {
  name: string;
  email: string;
  phone: string;
}

export interface TimelineEntry {
  at: string; // ISO time
  by: Person;
  type: 'submitted' | 'acknowledged' | 'assigned' | 'update' | 'transferred' | 'resolved' | 'reopened' | 'warning' | 'escalated' | 'delivery-failed';
  text: string;
}

/** Where the ticket was reported, so later issues can post the acknowledgement back there. */
export interface TicketOrigin {
  conversationId: string;
  conversationKind: 'personal' | 'groupChat' | 'channel';
  /** The message (card) the report was made from, for thread replies in a channel. */
  activityId?: string;
}

export interface Person {
  aadObjectId: string;
  name: string;
}

/** The running SLA clock: what is due (acknowledgement or first response), when, and what fired. */
export interface SlaClock {
  kind: 'acknowledgement' | 'response';
  /** "30 minutes, 24x7", "4 hours, business hours". */
  target: string;
  dueAt: string;
  warnAt: string;
  warnedAt?: string;
  escalatedAt?: string;
}

export type Severity = 'A' | 'B' | 'C';
export type TicketStatus = 'submitted' | 'acknowledged' | 'resolved';

export interface Ticket {
  id: string; // the number, e.g. "OUT-100001"; also the store id
  /** Bumped on every change; desk cards carry it so a replayed click is recognised. */
  rev: number;
  kind: 'outage' | 'incident';
  severity: Severity;
  status: TicketStatus;
  /** Support queue id from the directory. */
  queue: string;
  assignee?: Person;
  acknowledged?: { at: string; by: Person; minutes: number; met: boolean };
  sla: SlaClock;
  resolution?: string;
  /** Messages that could not be delivered (bot removed, conversation gone): shown to the desk. */
  deliveryProblems: { at: string; conversationId: string; message: string }[];
  orgId: string;
  tenantId: string;
  projectId: string;
  projectName: string;
  environmentId: string;
  environmentName: string;
  scenarioId?: string;
  scenarioTitle?: string;
  title: string;
  details: string;
  /** Incidents: the issue category and area chosen (directory ids and names). */
  category?: { id: string; name: string };
  area?: { id: string; name: string };
  /** Incidents: the error message as the user pasted it. */
  errorMessage?: string;
  /** Incidents: files sent in personal chat (bytes under DATA_DIR/attachments/<draftId>/). */
  attachments?: TicketAttachment[];
  /** Incidents: the support plan it was filed under. */
  contract?: { ref: string; name: string };
  reporter: { aadObjectId: string; name: string; email?: string };
  contact: Contact;
  submittedAt: string;
  /** Acknowledgement due by (outage: submittedAt + 30 minutes). */
  ackDueAt: string;
  /** The reporter's time zone when they submitted; times are shown in it. */
  timeZone: string;
  origin: TicketOrigin;
  draftId: string;
  timeline: TimelineEntry[];
}

export interface TicketAttachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
}

export function ticketNumber(kind: Ticket['kind'], seq: number): string {
  return `${kind === 'outage' ? 'OUT' : 'INC'}-${String(seq).padStart(6, '0')}`;
}

// ---- the SLA clock's deadlines -------------------------------------------------------------

export type DeadlineKind = 'warn' | 'escalate';

/** A warning or escalation a ticket's SLA clock still has to fire. Not stored: it follows from the ticket. */
export interface Deadline {
  id: string; // `${ticketId}:${kind}`
  ticketId: string;
  kind: DeadlineKind;
  at: string; // ISO
}

/**
 * What `t`'s SLA clock still has to do, earliest first. While the ticket is open and unacknowledged
 * it warns the desk (until `sla.warnedAt` is set) and escalates (until `sla.escalatedAt` is set);
 * acknowledging or resolving it leaves nothing, and reopening an unacknowledged one brings them back.
 */
export function pendingDeadlines(t: Ticket): Deadline[] {
  if (t.status !== 'submitted' || t.acknowledged) return [];
  const out: Deadline[] = [];
  // A warning after the escalation would only confuse: once escalated, it is dropped.
  if (!t.sla.warnedAt && !t.sla.escalatedAt) out.push(deadlineOf(t.id, 'warn', t.sla.warnAt));
  if (!t.sla.escalatedAt) out.push(deadlineOf(t.id, 'escalate', t.sla.dueAt));
  return out;
}

export function deadlineOf(ticketId: string, kind: DeadlineKind, at: string): Deadline {
  return { id: `${ticketId}:${kind}`, ticketId, kind, at };
}

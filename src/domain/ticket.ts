// A ticket: a production outage today, a support incident later. Stored whole in `tickets`.

export const OUTAGE_ACK_MINUTES = 30;

export interface Contact {
  name: string;
  email: string;
  phone: string;
}

export interface TimelineEntry {
  at: string; // ISO time
  by: { aadObjectId: string; name: string };
  type: 'submitted' | string;
  text: string;
}

/** Where the ticket was reported, so later issues can post the acknowledgement back there. */
export interface TicketOrigin {
  conversationId: string;
  conversationKind: 'personal' | 'groupChat' | 'channel';
  /** The message (card) the report was made from, for thread replies in a channel. */
  activityId?: string;
}

export interface Ticket {
  id: string; // the number, e.g. "OUT-100001"; also the store id
  kind: 'outage' | 'incident';
  severity: 'A' | 'B' | 'C';
  status: 'submitted' | 'acknowledged' | 'resolved';
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

export function ticketNumber(kind: Ticket['kind'], seq: number): string {
  return `${kind === 'outage' ? 'OUT' : 'INC'}-${String(seq).padStart(6, '0')}`;
}

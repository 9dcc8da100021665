import type { Directory } from '../directory.js';
import type { Ticket } from '../domain/ticket.js';
import type { View } from '../flows/views.js';
import { formatClock, formatDateTime } from '../time.js';

// What the desk card, the reporter's news and the status card show, computed from a ticket.

const DESK_ERROR_FIELDS = ['ticket', 'updateText', 'transferTo', 'severity', 'transferReason', 'resolution'];

export const STATUS_LABELS: Record<Ticket['status'], string> = {
  submitted: 'Waiting for acknowledgement',
  acknowledged: 'Acknowledged, in progress',
  resolved: 'Resolved',
};

export type SlaState = 'due' | 'met' | 'missed' | 'overdue';

/** Where the SLA clock stands at `now`. */
export function slaState(t: Ticket, now: Date): SlaState {
  if (t.acknowledged) return t.acknowledged.met ? 'met' : 'missed';
  if (t.status === 'resolved') return now.getTime() <= Date.parse(t.sla.dueAt) ? 'met' : 'missed';
  return now.getTime() <= Date.parse(t.sla.dueAt) ? 'due' : 'overdue';
}

/** One line on the SLA clock, e.g. "Acknowledgement due by 9:30 AM EST (30 minutes, 24x7)". */
export function slaLine(t: Ticket, now: Date): string {
  const what = t.sla.kind === 'acknowledgement' ? 'Acknowledgement' : 'First response';
  const due = formatClock(t.sla.dueAt, t.timeZone);
  switch (slaState(t, now)) {
    case 'due':
      return `${what} due by ${due} (${t.sla.target})`;
    case 'overdue':
      return `${what} OVERDUE since ${due} (${t.sla.target})`;
    case 'met':
      return t.acknowledged
        ? `${what} met: ${t.acknowledged.minutes} minutes after submission (due by ${due})`
        : `Resolved before the ${what.toLowerCase()} deadline (${due})`;
    case 'missed':
      return t.acknowledged
        ? `${what} missed: ${t.acknowledged.minutes} minutes after submission (due by ${due})`
        : `Resolved after the ${what.toLowerCase()} deadline (${due})`;
  }
}

function timelineRows(t: Ticket, last = 8) {
  return t.timeline.slice(-last).map((e) => ({
    when: formatClock(e.at, t.timeZone),
    who: e.by.name,
    text: e.text,
  }));
}

// Pushed one by one: spreading the optional facts in was most of building a desk card's view.
function facts(t: Ticket, directory: Directory) {
  const queue = directory.desk.queues.find((q) => q.id === t.queue)?.name ?? t.queue;
  const out = [
    { title: 'Severity', value: t.severity === 'A' ? 'A (Critical)' : t.severity },
    { title: 'Type', value: t.kind === 'outage' ? 'Production outage' : 'Support incident' },
    { title: 'Project', value: t.projectName },
    { title: 'Environment', value: t.environmentName },
  ];
  if (t.scenarioTitle) out.push({ title: 'Scenario', value: t.scenarioTitle });
  if (t.category) out.push({ title: 'Category', value: t.category.name });
  if (t.area) out.push({ title: 'Area', value: t.area.name });
  if (t.contract) out.push({ title: 'Support plan', value: t.contract.name });
  if (t.attachments?.length) out.push({ title: 'Attachments', value: t.attachments.map((a) => a.name).join(', ') });
  out.push(
    { title: 'Queue', value: queue },
    { title: 'Assigned to', value: t.assignee?.name ?? 'Nobody yet' },
    { title: 'Reporter', value: t.reporter.name },
    { title: 'Contact', value: `${t.contact.name}, ${t.contact.email}, ${t.contact.phone}` },
    { title: 'Submitted', value: formatDateTime(t.submittedAt, t.timeZone) },
  );
  return out;
}

function transferChoices(t: Ticket, directory: Directory) {
  const out = t.kind === 'outage' ? [{ title: 'Not an outage: make it a normal incident', value: 'incident' }] : [];
  for (const q of directory.desk.queues) if (q.id !== t.queue) out.push({ title: `Queue: ${q.name}`, value: q.id });
  return out;
}

export function deskCardView(
  t: Ticket,
  directory: Directory,
  now: Date,
  extras: { errors?: Record<string, string>; notice?: string } = {},
): View {
  const state = slaState(t, now);
  return {
    card: 'deskTicket',
    data: {
      ticketId: t.id,
      rev: t.rev,
      // Every button's data, bound as one value (see actionData in flows/views.ts).
      action: { ticketId: t.id, rev: t.rev },
      headline: `${t.id}: ${t.title}`,
      status: STATUS_LABELS[t.status],
      sla: slaLine(t, now),
      slaColor: state === 'due' ? 'Warning' : state === 'met' ? 'Good' : 'Attention',
      facts: facts(t, directory),
      details: t.details,
      errorMessage: t.errorMessage ?? '',
      resolution: t.resolution ?? '',
      timeline: timelineRows(t),
      problems: t.deliveryProblems.map((p) => ({ text: `Could not deliver to ${p.conversationId}: ${p.message}` })),
      isOpen: t.status !== 'resolved',
      canAcknowledge: !t.acknowledged && t.status !== 'resolved',
      canReopen: t.status === 'resolved',
      transferChoices: transferChoices(t, directory),
      canTransfer: t.status !== 'resolved',
      ...filesButton(t), // three fields: spread once, as they are also the status card's
      errors: deskErrors(extras.errors),
      notice: extras.notice ?? '',
    },
  };
}

/**
 * The "Attachments (n)" button of the desk and status cards: a Teams task/fetch that opens the
 * ticket's files in a dialog (bot/dialogs.ts TicketFilesDialog, src/web/ticketFiles.ts).
 */
function filesButton(t: Ticket) {
  const n = t.attachments?.length ?? 0;
  return {
    hasAttachments: n > 0,
    attachmentsTitle: n > 0 ? `Attachments (${n})` : '',
    filesAction: { msteams: { type: 'task/fetch' }, dialog: 'attachments', ticketId: t.id },
  };
}

function deskErrors(given: Record<string, string> | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const f of DESK_ERROR_FIELDS) errors[f] = given?.[f] ?? '';
  return errors;
}

/** A message to the reporter (or the desk) about a change, naming the ticket. */
export function newsView(t: Ticket, title: string, text: string, now: Date): View {
  return {
    card: 'ticketNews',
    data: {
      title,
      text,
      ticketId: t.id,
      status: STATUS_LABELS[t.status],
      sla: slaLine(t, now),
      project: `${t.projectName} (${t.environmentName})`,
    },
  };
}

/** "status <ticket>": the ticket and its whole timeline. */
export function statusView(t: Ticket, directory: Directory, now: Date): View {
  return {
    card: 'ticketStatus',
    data: {
      headline: `${t.id}: ${t.title}`,
      status: STATUS_LABELS[t.status],
      sla: slaLine(t, now),
      facts: facts(t, directory),
      resolution: t.resolution ?? '',
      timeline: timelineRows(t, 50),
      ...filesButton(t),
    },
  };
}

/** "my tickets": newest first, with where each stands. */
export function ticketListView(tickets: Ticket[], now: Date, intro = ''): View {
  return {
    card: 'ticketList',
    data: {
      intro,
      empty: tickets.length === 0,
      tickets: tickets.map((t) => ({
        ticketId: t.id,
        line: `${t.id} · ${t.kind === 'outage' ? 'Outage' : 'Incident'} · Severity ${t.severity} · ${STATUS_LABELS[t.status]}`,
        title: t.title,
        sla: slaLine(t, now),
        latest: t.timeline.at(-1)?.text ?? '',
      })),
    },
  };
}

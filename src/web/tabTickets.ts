import { STATUS_LABELS, slaState, type SlaState } from '../desk/deskViews.js';
import type { Directory } from '../directory.js';
import type { Ticket } from '../domain/ticket.js';
import type { UserContext } from '../domain/user.js';
import { slaSummary } from '../incidents/incidentList.js';
import { formatDateTime } from '../time.js';

// What the Incidents tab shows of a ticket, computed on the server so that the tab, the list card
// and the desk say the same thing (status labels, SLA wording, times in the viewer's zone). The tab
// lists the user's incidents and open outages by the "incidents" rules (src/incidents/incidentList.ts).

/** The tab lists at most this many tickets, newest first. */
export const TAB_LIST_LIMIT = 50;

/** What the tab's buttons type in the bot's chat (src/intents.ts recognises both). */
export const BOT_COMMANDS = { reportOutage: 'report outage', submitIncident: 'submit incident' } as const;

/** A Teams deep link to the personal chat with the bot, the message typed in, ready to send. */
export function botChatLink(botId: string, message: string): string {
  const id = botId.startsWith('28:') ? botId.slice(3) : botId;
  return `https://teams.microsoft.com/l/chat/0/0?users=28:${encodeURIComponent(id)}&message=${encodeURIComponent(message)}`;
}

/** The deep links of the tab's two buttons; none without a bot id (local mode). */
export function botLinks(botId: string | undefined): { reportOutage: string; submitIncident: string } | undefined {
  if (!botId) return undefined;
  return { reportOutage: botChatLink(botId, BOT_COMMANDS.reportOutage), submitIncident: botChatLink(botId, BOT_COMMANDS.submitIncident) };
}

/** Incidents whatever their status; outages while they are open (a resolved outage is history). */
export function tabAccepts(t: Ticket): boolean {
  return t.kind === 'incident' || t.status !== 'resolved';
}

/**
 * Whether the tab may show this ticket to this user: their tenant's only, and then its reporter or
 * a member of its project (as `status <ticket>` in the chat, without the desk's view of everything:
 * the tab is the customer's side).
 */
export function canSeeInTab(directory: Directory, user: UserContext, t: Ticket): boolean {
  const me = user.aadObjectId.toLowerCase();
  if (t.tenantId.toLowerCase() !== user.tenantId.toLowerCase()) return false;
  if (t.reporter.aadObjectId.toLowerCase() === me) return true;
  const org = directory.organizations.find((o) => o.id === t.orgId && o.tenantId.toLowerCase() === t.tenantId.toLowerCase());
  return !!org?.projects.find((p) => p.id === t.projectId)?.members.some((m) => m.aadObjectId.toLowerCase() === me);
}

export interface TabSla {
  state: SlaState;
  /** "SLA met", "SLA missed", "SLA due by 10:00 AM EST", "SLA overdue (was due by 8:45 AM EST)". */
  text: string;
  dueAt: string;
}

export interface TabRow {
  id: string;
  kind: Ticket['kind'];
  kindLabel: string;
  title: string;
  severity: Ticket['severity'];
  status: Ticket['status'];
  statusLabel: string;
  project: string;
  /** Set when someone else reported it (a project owner sees the project's tickets). */
  reportedBy?: string;
  submittedAt: string;
  submitted: string;
  sla: TabSla;
}

export interface TabDetail extends TabRow {
  /** "Acknowledgement: 30 minutes, 24x7". */
  slaTarget: string;
  facts: { title: string; value: string }[];
  details: string;
  errorMessage?: string;
  resolution?: string;
  timeline: { at: string; when: string; who: string; type: string; text: string }[];
}

export function tabRow(t: Ticket, user: UserContext, now: Date, timeZone: string): TabRow {
  const reportedByOther = t.reporter.aadObjectId.toLowerCase() !== user.aadObjectId.toLowerCase();
  return {
    id: t.id,
    kind: t.kind,
    kindLabel: t.kind === 'outage' ? 'Outage' : 'Incident',
    title: t.title,
    severity: t.severity,
    status: t.status,
    statusLabel: STATUS_LABELS[t.status],
    project: t.projectName,
    ...(reportedByOther ? { reportedBy: t.reporter.name } : {}),
    submittedAt: t.submittedAt,
    submitted: formatDateTime(t.submittedAt, timeZone),
    sla: { state: slaState(t, now), text: slaSummary(t, now, timeZone).text, dueAt: t.sla.dueAt },
  };
}

export function tabDetail(t: Ticket, user: UserContext, now: Date, timeZone: string): TabDetail {
  const what = t.sla.kind === 'acknowledgement' ? 'Acknowledgement' : 'First response';
  return {
    ...tabRow(t, user, now, timeZone),
    slaTarget: `${what}: ${t.sla.target}`,
    facts: [
      { title: 'Type', value: t.kind === 'outage' ? 'Production outage' : 'Support incident' },
      { title: 'Severity', value: t.severity === 'A' ? 'A (Critical)' : t.severity },
      { title: 'Project', value: t.projectName },
      { title: 'Environment', value: t.environmentName },
      ...(t.scenarioTitle ? [{ title: 'Scenario', value: t.scenarioTitle }] : []),
      ...(t.category ? [{ title: 'Category', value: t.area ? `${t.category.name} › ${t.area.name}` : t.category.name }] : []),
      ...(t.contract ? [{ title: 'Support plan', value: t.contract.name }] : []),
      { title: 'Assigned to', value: t.assignee?.name ?? 'Nobody yet' },
      { title: 'Reporter', value: t.reporter.name },
      { title: 'Submitted', value: formatDateTime(t.submittedAt, timeZone) },
    ],
    details: t.details,
    ...(t.errorMessage ? { errorMessage: t.errorMessage } : {}),
    ...(t.resolution ? { resolution: t.resolution } : {}),
    timeline: t.timeline.map((e) => ({ at: e.at, when: formatDateTime(e.at, timeZone), who: e.by.name, type: e.type, text: e.text })),
  };
}

import { z } from 'zod';
import { STATUS_LABELS, slaState } from '../desk/deskViews.js';
import type { Directory, LcsRole, Organization, Project } from '../directory.js';
import type { Ticket } from '../domain/ticket.js';
import type { UserContext } from '../domain/user.js';
import type { View } from '../flows/views.js';
import { COLLECTIONS } from '../services/collections.js';
import type { Store } from '../store/store.js';
import { type Clock, formatClock, formatDateTime, isTimeZone } from '../time.js';

// "my incidents" and "incidents" (SPEC §3.7): the user's support incidents and, for project owners
// and organisation admins, their projects' incidents in the current organisation, newest first,
// 10 a page. Tenant isolation: only tickets of the user's tenant are ever read into a page, whatever
// the directory says.

export const INCIDENTS_PAGE_SIZE = 10;

/** `mine`: "my incidents"; `project`: "incidents" (the project's too, for its owners and admins). */
export const IncidentScope = z.enum(['mine', 'project']);
export type IncidentScope = z.infer<typeof IncidentScope>;

/** Next / Previous on the list card: the page replaces the card in place. */
export const IncidentsAction = z.object({
  verb: z.literal('incidents.page'),
  data: z.object({ scope: IncidentScope, page: z.coerce.number().int().min(1).max(100_000) }),
});
export type IncidentsAction = z.infer<typeof IncidentsAction>;

/** The roles that see every incident of a project (LCS: project owner, organisation admin). */
export const PROJECT_VIEWER_ROLES: readonly LcsRole[] = ['project-owner', 'organization-admin'];

export interface IncidentListDeps {
  store: Store;
  directory: Directory;
  clock: Clock;
  /** The user's current organisation id (remembered, else their first), if they belong to one. */
  currentOrganization(user: UserContext): Promise<string | undefined>;
}

type SlaColor = 'Good' | 'Attention' | 'Warning' | 'Default';

export class IncidentList {
  constructor(private readonly deps: IncidentListDeps) {}

  /**
   * The tickets the list draws from, newest first: the user's own and, for `project`, those of the
   * projects they own or administer in their current organisation; only ever of the user's tenant.
   * `accept` picks the kinds (the list card: incidents; the Incidents tab: open outages too).
   */
  async visible(
    user: UserContext,
    scope: IncidentScope,
    accept: (t: Ticket) => boolean = (t) => t.kind === 'incident',
  ): Promise<{ tickets: Ticket[]; org?: Organization; projects: Project[] }> {
    const tenant = user.tenantId.toLowerCase();
    const me = user.aadObjectId.toLowerCase();
    const byId = new Map<string, Ticket>();
    const keep = (t: Ticket) => {
      if (accept(t) && t.tenantId.toLowerCase() === tenant) byId.set(t.id, t);
    };
    for (const d of await this.deps.store.find<Ticket>(COLLECTIONS.tickets, 'reporter', me)) keep(d.value);
    const org = scope === 'project' ? await this.currentOrg(user) : undefined;
    const projects = org ? org.projects.filter((p) => roleIn(p, me)) : [];
    for (const p of projects)
      for (const d of await this.deps.store.find<Ticket>(COLLECTIONS.tickets, 'project', p.id))
        if (d.value.orgId === org!.id) keep(d.value);
    const tickets = [...byId.values()].sort((a, b) => b.submittedAt.localeCompare(a.submittedAt) || b.id.localeCompare(a.id));
    return { tickets, ...(org ? { org } : {}), projects };
  }

  /** One page of the list card; a page past the end shows the last one. */
  async list(user: UserContext, scope: IncidentScope, page = 1): Promise<View> {
    const me = user.aadObjectId.toLowerCase();
    const { tickets: all, org, projects } = await this.visible(user, scope);
    let intro = 'Newest first.';
    let note = '';
    if (scope === 'project') {
      if (projects.length) intro = `Yours and those of ${list(projects.map((p) => p.name))} (${org!.name}), newest first.`;
      else
        note = org
          ? `Your own incidents only: a project's incidents are listed for its project owners and organisation admins, and you are neither in ${org.name}.`
          : "Your own incidents only: you aren't a project owner or organisation admin of a project here.";
    }

    const pages = Math.max(1, Math.ceil(all.length / INCIDENTS_PAGE_SIZE));
    const current = Math.min(Math.max(1, Math.floor(page)), pages);
    const shown = all.slice((current - 1) * INCIDENTS_PAGE_SIZE, current * INCIDENTS_PAGE_SIZE);
    const now = this.deps.clock.now();
    const zone = isTimeZone(user.timeZone) ? user.timeZone : undefined;
    return {
      card: 'incidentList',
      data: {
        heading: scope === 'mine' ? 'Your incidents' : 'Incidents',
        intro: all.length ? intro : '',
        note,
        empty: all.length === 0,
        emptyText:
          scope === 'mine'
            ? 'You have no support incidents. Incidents you submit appear here, with where each stands.'
            : 'There are no support incidents to show.',
        incidents: shown.map((t) => incidentRow(t, me, now, zone ?? t.timeZone)),
        pageLine: all.length ? `Page ${current} of ${pages} · ${all.length} incident${all.length === 1 ? '' : 's'}` : '',
        scope,
        hasPrevious: current > 1,
        hasNext: current < pages,
        previousPage: current - 1,
        nextPage: current + 1,
      },
    };
  }

  private async currentOrg(user: UserContext): Promise<Organization | undefined> {
    const id = await this.deps.currentOrganization(user);
    const org = this.deps.directory.organizations.find((o) => o.id === id);
    return org && org.tenantId.toLowerCase() === user.tenantId.toLowerCase() ? org : undefined;
  }
}

function roleIn(project: Project, me: string): boolean {
  return project.members.some((m) => m.aadObjectId === me && PROJECT_VIEWER_ROLES.includes(m.role));
}

function list(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The SLA in a few words: met, missed, due by <clock time>, overdue. */
export function slaSummary(t: Ticket, now: Date, timeZone: string): { text: string; color: SlaColor } {
  const due = formatClock(t.sla.dueAt, timeZone);
  switch (slaState(t, now)) {
    case 'met':
      return { text: 'SLA met', color: 'Good' };
    case 'missed':
      return { text: 'SLA missed', color: 'Attention' };
    case 'due':
      return { text: `SLA due by ${due}`, color: 'Default' };
    case 'overdue':
      return { text: `SLA overdue (was due by ${due})`, color: 'Attention' };
  }
}

function incidentRow(t: Ticket, me: string, now: Date, timeZone: string) {
  const sla = slaSummary(t, now, timeZone);
  const by = t.reporter.aadObjectId.toLowerCase() === me ? '' : ` · reported by ${t.reporter.name}`;
  return {
    ticketId: t.id,
    line: `${t.id} · Severity ${t.severity} · ${STATUS_LABELS[t.status]}`,
    title: t.title,
    sla: sla.text,
    slaColor: sla.color,
    meta: `${t.projectName}${by} · ${formatDateTime(t.submittedAt, timeZone)}`,
  };
}

import { z } from 'zod';
import type { IssueCategory } from '../directory.js';
import type { TicketAttachment } from '../domain/ticket.js';
import type { ConversationContext, UserContext } from '../domain/user.js';
import type { UsablePlan } from '../plans/entitlements.js';
import { validateContact, withProfileEmail } from './outageFlow.js';

// Submit an incident (SPEC §3) as a pure state machine, built like the outage flow: advance()
// takes a draft and a card action and returns the next draft, per-field errors and the effects
// for the service to run (create the ticket, count a solved problem, add a Software Assurance
// plan). No I/O, no Date.now(). The checks are exported: the dialog's submitForm runs the same.

export type IncidentStep =
  | 'project'
  | 'category'
  | 'area'
  | 'describe'
  | 'screenshots'
  | 'contact'
  | 'contract'
  | 'done'
  | 'solved'
  | 'cancelled';

export const INCIDENT_ACTIVE_STEPS: readonly IncidentStep[] = [
  'project',
  'category',
  'area',
  'describe',
  'screenshots',
  'contact',
  'contract',
];
/** Steps at which files sent in personal chat are added to the draft. */
export const ATTACHMENT_STEPS: readonly IncidentStep[] = ['screenshots', 'contact', 'contract'];
export const isActiveIncident = (d: Pick<IncidentDraft, 'step'>) => INCIDENT_ACTIVE_STEPS.includes(d.step);

/** A file accepted for the draft (and then on the ticket); the bytes are on disk, the metadata in the store. */
export type DraftAttachment = TicketAttachment;

export interface IncidentDraft {
  id: string;
  kind: 'incident';
  /** Bumped on every accepted card action; a card carries it, so a stale or replayed click is spotted. */
  rev: number;
  step: IncidentStep;
  tenantId: string;
  reporter: { aadObjectId: string; name: string; email?: string };
  conversation: ConversationContext;
  timeZone: string;
  orgId?: string;
  projectId?: string;
  /** Category and area ids from the directory. */
  category: string;
  area: string;
  /** "yes" / "no" / "" (not answered yet), as the card's choice set sends it. */
  inEnvironment: string;
  environmentId: string;
  title: string;
  details: string;
  errorMessage: string;
  /** Added by messages (not card actions), so they do not bump `rev`. */
  attachments: DraftAttachment[];
  contact: { name: string; email: string; phone: string };
  contractRef: string;
  severity: string;
  /** Input.Toggle values, "true"/"false". */
  confirmCritical: string;
  confirm24x7: string;
  /** The Software Assurance form on the contract card, kept as typed. */
  sa: { subscriptionNumber: string; contactEmail: string };
  /** The outage draft whose "My situation isn't listed" started this one. */
  fromOutage?: string;
  errors: Record<string, string>;
  ticketId?: string;
  /** "This solved my problem": the knowledge-base entry that did. */
  solvedBy?: { issueId: string; kbNumber: string; title: string; link: string };
  createdAt: string;
  updatedAt: string;
}

/** A project the user may file an incident for (their current organisation's). */
export interface ProjectOption {
  id: string;
  name: string;
  orgId: string;
  orgName: string;
  environments: { id: string; name: string; type: 'production' | 'sandbox' }[];
}

export interface IncidentFlowContext {
  projects: ProjectOption[];
  categories: readonly IssueCategory[];
  /** Usable support plans for the draft's project; only needed at the contract step. */
  contracts: readonly UsablePlan[];
  /** A knowledge-base entry by id, for "This solved my problem". */
  knownIssue(id: string): { id: string; kbNumber: string; title: string; link: string } | undefined;
  now: Date;
  /** The acting user's e-mail from their Teams profile, when known: it prefills the contact. */
  profileEmail?: string;
}

// Card inputs arrive as strings (or not at all when left empty); lengths are capped here so a
// malformed or hostile invoke cannot bloat a draft. Meaningful checks happen in validate*().
const Text = (max: number) => z.string().max(max).optional();
const Base = { draftId: z.string().min(1).max(64), rev: z.coerce.number().int().min(0) };
const ProjectInputs = { projectId: Text(64) };
const CategoryInputs = { category: Text(64) };
const AreaInputs = { area: Text(64) };
const DescribeInputs = {
  inEnvironment: Text(10),
  environmentId: Text(64),
  title: Text(1000),
  details: Text(20000),
  errorMessage: Text(8000),
};
const ContactInputs = { name: Text(500), email: Text(500), phone: Text(100) };
const ContractInputs = { contractRef: Text(200), severity: Text(5), confirmCritical: Text(10), confirm24x7: Text(10) };
const SaInputs = { subscriptionNumber: Text(200), contactEmail: Text(400) };
const AllInputs = { ...ProjectInputs, ...CategoryInputs, ...AreaInputs, ...DescribeInputs, ...ContactInputs, ...ContractInputs, ...SaInputs };

export const IncidentAction = z.discriminatedUnion('verb', [
  z.object({ verb: z.literal('incident.project'), data: z.object({ ...Base, ...ProjectInputs }) }),
  z.object({ verb: z.literal('incident.category'), data: z.object({ ...Base, ...CategoryInputs }) }),
  z.object({ verb: z.literal('incident.area'), data: z.object({ ...Base, ...AreaInputs }) }),
  z.object({ verb: z.literal('incident.describe'), data: z.object({ ...Base, ...DescribeInputs }) }),
  z.object({ verb: z.literal('incident.screenshots'), data: z.object(Base) }),
  z.object({ verb: z.literal('incident.contact'), data: z.object({ ...Base, ...ContactInputs }) }),
  z.object({ verb: z.literal('incident.submit'), data: z.object({ ...Base, ...ContractInputs }) }),
  z.object({ verb: z.literal('incident.addSa'), data: z.object({ ...Base, ...ContractInputs, ...SaInputs }) }),
  // Back and Refresh carry whatever the card has: each keeps what was typed.
  z.object({ verb: z.literal('incident.back'), data: z.object({ ...Base, ...AllInputs }) }),
  z.object({ verb: z.literal('incident.refresh'), data: z.object({ ...Base, ...AllInputs }) }),
  z.object({
    verb: z.literal('incident.solved'),
    data: z.object({ ...Base, issueId: z.string().min(1).max(80) }),
  }),
  z.object({ verb: z.literal('incident.cancel'), data: z.object(Base) }),
]);
export type IncidentAction = z.infer<typeof IncidentAction>;

export type IncidentEffect =
  | { type: 'submitTicket' }
  | { type: 'countSolved'; issueId: string }
  | { type: 'addSoftwareAssurance'; subscriptionNumber: string; contactEmail: string };

export interface IncidentTransition {
  draft: IncidentDraft;
  effects: IncidentEffect[];
}

/** What an incident draft may start with: the outage flow's "My situation isn't listed". */
export interface IncidentPrefill {
  projectId?: string;
  environmentId?: string;
  title?: string;
  details?: string;
  /** The contact already given (the outage report's); else the Teams profile's. */
  contact?: { name: string; email: string; phone: string };
  fromOutage?: string;
}

/** A new draft. The project is chosen for the user when there is only one (or a prefill names it). */
export function startIncidentDraft(
  id: string,
  user: UserContext,
  conversation: ConversationContext,
  ctx: Pick<IncidentFlowContext, 'projects' | 'now'>,
  timeZone: string,
  prefill: IncidentPrefill = {},
): IncidentDraft {
  const at = ctx.now.toISOString();
  const project =
    ctx.projects.find((p) => p.id === prefill.projectId) ?? (ctx.projects.length === 1 ? ctx.projects[0] : undefined);
  const environment = project?.environments.find((e) => e.id === prefill.environmentId);
  return {
    id,
    kind: 'incident',
    rev: 0,
    step: project ? 'category' : 'project',
    tenantId: user.tenantId,
    reporter: { aadObjectId: user.aadObjectId, name: user.name, ...(user.email ? { email: user.email } : {}) },
    conversation,
    timeZone,
    ...(project ? { projectId: project.id, orgId: project.orgId } : {}),
    category: '',
    area: '',
    inEnvironment: environment ? 'yes' : '',
    environmentId: environment?.id ?? '',
    title: prefill.title ?? '',
    details: prefill.details ?? '',
    errorMessage: '',
    attachments: [],
    contact: prefill.contact ? { ...prefill.contact } : { name: user.name, email: user.email ?? '', phone: '' },
    contractRef: '',
    severity: '',
    confirmCritical: 'false',
    confirm24x7: 'false',
    sa: { subscriptionNumber: '', contactEmail: '' },
    ...(prefill.fromOutage ? { fromOutage: prefill.fromOutage } : {}),
    errors: {},
    createdAt: at,
    updatedAt: at,
  };
}

const STEP_OF_VERB: Partial<Record<IncidentAction['verb'], IncidentStep>> = {
  'incident.project': 'project',
  'incident.category': 'category',
  'incident.area': 'area',
  'incident.describe': 'describe',
  'incident.screenshots': 'screenshots',
  'incident.contact': 'contact',
  'incident.submit': 'contract',
  'incident.addSa': 'contract',
};

const PREVIOUS: Partial<Record<IncidentStep, IncidentStep>> = {
  category: 'project',
  area: 'category',
  describe: 'area',
  screenshots: 'describe',
  contact: 'screenshots',
  contract: 'contact',
};

export function advanceIncident(
  draft: IncidentDraft,
  action: IncidentAction,
  ctx: IncidentFlowContext,
): IncidentTransition {
  // A verb for another step (a crafted invoke; real stale cards are caught by rev): no change.
  const expected = STEP_OF_VERB[action.verb];
  if (expected && expected !== draft.step) return { draft, effects: [] };

  const next: IncidentDraft = {
    ...draft,
    rev: draft.rev + 1,
    updatedAt: ctx.now.toISOString(),
    contact: { ...draft.contact },
    sa: { ...draft.sa },
  };
  const d = action.data as Record<string, unknown>;
  const typed = (key: string): string | undefined => (typeof d[key] === 'string' ? (d[key] as string) : undefined);
  // Whatever the user typed on this card is kept, valid or not, so nothing is ever lost.
  const keep = () => {
    for (const key of [
      'category',
      'area',
      'inEnvironment',
      'environmentId',
      'title',
      'details',
      'errorMessage',
      'contractRef',
      'severity',
      'confirmCritical',
      'confirm24x7',
    ] as const) {
      const v = typed(key);
      if (v !== undefined) next[key] = v;
    }
    for (const key of ['name', 'email', 'phone'] as const) {
      const v = typed(key);
      if (v !== undefined) next.contact[key] = v;
    }
    for (const key of ['subscriptionNumber', 'contactEmail'] as const) {
      const v = typed(key);
      if (v !== undefined) next.sa[key] = v;
    }
  };
  const go = (step: IncidentStep, errors: Record<string, string> = {}, effects: IncidentEffect[] = []): IncidentTransition => {
    next.errors = errors;
    if (Object.keys(errors).length === 0) next.step = step;
    return { draft: next, effects: Object.keys(errors).length === 0 ? effects : [] };
  };

  switch (action.verb) {
    case 'incident.project': {
      const project = ctx.projects.find((p) => p.id === action.data.projectId);
      if (!project) return go('project', { projectId: 'Choose the project the issue is about.' });
      if (project.id !== draft.projectId) {
        // Another project: its environments and support plans differ.
        if (!project.environments.some((e) => e.id === next.environmentId)) next.environmentId = '';
        next.contractRef = '';
      }
      next.projectId = project.id;
      next.orgId = project.orgId;
      return go('category');
    }
    case 'incident.category': {
      keep();
      const errors = validateCategory(next, ctx);
      if (next.category !== draft.category) next.area = ''; // areas depend on the category
      return go('area', errors);
    }
    case 'incident.area': {
      keep();
      return go('describe', validateArea(next, ctx));
    }
    case 'incident.describe': {
      keep();
      return go('screenshots', validateDescribe(next, projectOf(next, ctx)));
    }
    case 'incident.screenshots': {
      const t = go('contact');
      return { ...t, draft: withProfileEmail(t.draft, ctx.profileEmail) }; // it may have come after the start
    }
    case 'incident.contact': {
      keep();
      return go('contract', validateIncidentContact(next.contact));
    }
    case 'incident.submit': {
      keep();
      const errors = validateAll(next, ctx);
      if (Object.keys(errors).length > 0) return go('contract', errors);
      // The ticket is created by the caller in the same store write that moves the draft to done.
      return { draft: finalizeIncident(next), effects: [{ type: 'submitTicket' }] };
    }
    case 'incident.addSa': {
      keep();
      return go('contract', {}, [
        { type: 'addSoftwareAssurance', subscriptionNumber: next.sa.subscriptionNumber, contactEmail: next.sa.contactEmail },
      ]);
    }
    case 'incident.back': {
      keep();
      let to = PREVIOUS[draft.step] ?? draft.step;
      if (to === 'project' && ctx.projects.length <= 1 && draft.projectId) to = 'category';
      return go(to);
    }
    case 'incident.refresh':
      keep();
      return go(draft.step);
    case 'incident.solved': {
      if (!INCIDENT_ACTIVE_STEPS.includes(draft.step)) return { draft, effects: [] };
      const issue = ctx.knownIssue(action.data.issueId);
      if (!issue) return go(draft.step, { suggestions: 'That article is no longer in the knowledge base; choose another or carry on.' });
      next.solvedBy = { issueId: issue.id, kbNumber: issue.kbNumber, title: issue.title, link: issue.link };
      return go('solved', {}, [{ type: 'countSolved', issueId: issue.id }]);
    }
    case 'incident.cancel':
      return go('cancelled');
  }
}

/** A valid draft as it is submitted: text trimmed, no environment unless it occurred in one. */
export function finalizeIncident(d: IncidentDraft): IncidentDraft {
  return {
    ...d,
    title: d.title.trim(),
    details: d.details.trim(),
    errorMessage: d.errorMessage.trim(),
    contact: { name: d.contact.name.trim(), email: d.contact.email.trim(), phone: d.contact.phone.trim() },
    environmentId: d.inEnvironment === 'yes' ? d.environmentId : '',
    errors: {},
  };
}

/** The draft's project, if the user may still file for it. */
export function projectOf(d: Pick<IncidentDraft, 'projectId'>, ctx: Pick<IncidentFlowContext, 'projects'>): ProjectOption | undefined {
  return ctx.projects.find((p) => p.id === d.projectId);
}

export function categoryOf(d: Pick<IncidentDraft, 'category'>, ctx: Pick<IncidentFlowContext, 'categories'>): IssueCategory | undefined {
  return ctx.categories.find((c) => c.id === d.category);
}

export function areaOf(d: Pick<IncidentDraft, 'category' | 'area'>, ctx: Pick<IncidentFlowContext, 'categories'>) {
  return categoryOf(d, ctx)?.areas.find((a) => a.id === d.area);
}

// ---- checks (the card flow and the dialog's submitForm run the same) -----------------------------

type Errors = Record<string, string>;

export function validateProject(d: Pick<IncidentDraft, 'projectId'>, ctx: Pick<IncidentFlowContext, 'projects'>): Errors {
  return projectOf(d, ctx) ? {} : { projectId: 'Choose one of your projects: you must be a member of it.' };
}

export function validateCategory(d: Pick<IncidentDraft, 'category'>, ctx: Pick<IncidentFlowContext, 'categories'>): Errors {
  return categoryOf(d, ctx) ? {} : { category: 'Choose the issue category.' };
}

export function validateArea(d: Pick<IncidentDraft, 'category' | 'area'>, ctx: Pick<IncidentFlowContext, 'categories'>): Errors {
  const category = categoryOf(d, ctx);
  if (!category) return validateCategory(d, ctx);
  return category.areas.some((a) => a.id === d.area) ? {} : { area: `Choose the area of ${category.name} the issue is in.` };
}

export function validateDescribe(
  d: Pick<IncidentDraft, 'inEnvironment' | 'environmentId' | 'title' | 'details' | 'errorMessage'>,
  project: ProjectOption | undefined,
): Errors {
  const errors: Errors = {};
  if (d.inEnvironment !== 'yes' && d.inEnvironment !== 'no')
    errors.inEnvironment = 'Say whether the issue occurred in an environment.';
  else if (d.inEnvironment === 'yes' && !project?.environments.some((e) => e.id === d.environmentId))
    errors.environmentId = project?.environments.length
      ? 'Choose the environment where it occurred.'
      : 'This project has no environments yet: answer No.';
  const title = d.title.trim();
  if (title.length === 0) errors.title = 'Enter a short title for the issue.';
  else if (title.length > 200) errors.title = `Keep the title to 200 characters (it has ${title.length}).`;
  const details = d.details.trim();
  if (details.length < 20)
    errors.details = 'Describe the issue and the steps to reproduce it (at least 20 characters).';
  else if (details.length > 8000) errors.details = `Keep the details to 8,000 characters (they have ${details.length}).`;
  const error = d.errorMessage.trim();
  if (error.length > 4000) errors.errorMessage = `Keep the error message to 4,000 characters (it has ${error.length}).`;
  return errors;
}

export function validateIncidentContact(c: IncidentDraft['contact']): Errors {
  return validateContact(c, { phoneRequired: 'Enter a phone number where the support engineer can reach you.' });
}

export const SEVERITIES = [
  {
    id: 'A',
    title: 'A: Critical',
    meaning:
      'Critical business impact: significant loss or degradation of services that needs immediate attention. You commit to be available 24x7 while it is worked on.',
  },
  { id: 'B', title: 'B: Moderate', meaning: 'Moderate business impact: work can reasonably continue, but impaired.' },
  { id: 'C', title: 'C: Minimum', meaning: 'Minimum business impact: functioning with minor impediments.' },
] as const;

export function validateContract(
  d: Pick<IncidentDraft, 'contractRef' | 'severity' | 'confirmCritical' | 'confirm24x7'>,
  contracts: readonly UsablePlan[],
): Errors {
  const errors: Errors = {};
  if (contracts.length === 0) errors.contractRef = 'No support plan can be used for this project yet: add one first.';
  else if (!contracts.some((c) => c.ref === d.contractRef)) errors.contractRef = 'Choose the support plan to use.';
  if (!SEVERITIES.some((s) => s.id === d.severity)) errors.severity = 'Choose severity A, B or C.';
  if (d.severity === 'A') {
    if (d.confirmCritical !== 'true')
      errors.confirmCritical = 'Severity A needs critical business impact: confirm it, or choose B.';
    if (d.confirm24x7 !== 'true')
      errors.confirm24x7 = 'Severity A is worked on around the clock: confirm you will be available 24x7, or choose B.';
  }
  return errors;
}

/** Every check at once: what Submit (and the dialog's submitForm) require. */
export function validateAll(d: IncidentDraft, ctx: IncidentFlowContext): Errors {
  return {
    ...validateProject(d, ctx),
    ...validateArea(d, ctx),
    ...validateDescribe(d, projectOf(d, ctx)),
    ...validateIncidentContact(d.contact),
    ...validateContract(d, ctx.contracts),
  };
}

import { z } from 'zod';
import type { OutageScenario } from '../directory.js';
import type { OutageTarget } from '../domain/eligibility.js';
import type { ConversationContext, UserContext } from '../domain/user.js';

// The outage report (SPEC §2) as a pure state machine: advance() takes a draft and a card action
// and returns the next draft, per-field errors and the effects to run. No I/O, no Date.now().

export type OutageStep = 'project' | 'confirm' | 'details' | 'contact' | 'done' | 'notListed' | 'cancelled';

export interface OutageDraft {
  id: string;
  kind: 'outage';
  /** Bumped on every accepted action; a card carries it, so a stale or replayed click is spotted. */
  rev: number;
  step: OutageStep;
  tenantId: string;
  reporter: { aadObjectId: string; name: string; email?: string };
  conversation: ConversationContext;
  timeZone: string;
  projectId?: string;
  environmentId?: string;
  /** Input.Toggle sends "true"/"false"; kept as typed. */
  confirmed: string;
  scenarioId: string;
  title: string;
  details: string;
  contact: { name: string; email: string; phone: string };
  /** Field -> message, from the last rejected action; shown beside each field. */
  errors: Record<string, string>;
  ticketId?: string;
  createdAt: string;
  updatedAt: string;
}

export const ACTIVE_STEPS: readonly OutageStep[] = ['project', 'confirm', 'details', 'contact'];
export const isActive = (d: OutageDraft) => ACTIVE_STEPS.includes(d.step);

// Card inputs arrive as strings (or not at all when left empty); lengths are capped here so a
// malformed or hostile invoke cannot bloat a draft. Meaningful checks happen in validate*().
const Text = (max: number) => z.string().max(max).optional();
const Base = { draftId: z.string().min(1).max(64), rev: z.coerce.number().int().min(0) };
const ProjectInputs = { projectKey: Text(200) };
const ConfirmInputs = { confirmed: Text(10), scenarioId: Text(64) };
const DetailsInputs = { title: Text(1000), details: Text(20000) };
const ContactInputs = { name: Text(500), email: Text(500), phone: Text(100) };

export const OutageAction = z.discriminatedUnion('verb', [
  z.object({ verb: z.literal('outage.project'), data: z.object({ ...Base, ...ProjectInputs }) }),
  z.object({ verb: z.literal('outage.confirm'), data: z.object({ ...Base, ...ConfirmInputs }) }),
  z.object({ verb: z.literal('outage.notListed'), data: z.object({ ...Base, ...ConfirmInputs }) }),
  z.object({ verb: z.literal('outage.details'), data: z.object({ ...Base, ...DetailsInputs }) }),
  z.object({ verb: z.literal('outage.contact'), data: z.object({ ...Base, ...ContactInputs }) }),
  z.object({
    verb: z.literal('outage.back'),
    data: z.object({ ...Base, ...ConfirmInputs, ...DetailsInputs, ...ContactInputs }),
  }),
  z.object({ verb: z.literal('outage.cancel'), data: z.object(Base) }),
]);
export type OutageAction = z.infer<typeof OutageAction>;

export interface FlowContext {
  targets: OutageTarget[];
  scenarios: OutageScenario[];
  now: Date;
  /** The acting user's e-mail from their Teams profile, when known: it prefills the contact. */
  profileEmail?: string;
}

export type Effect = { type: 'submitTicket' };

export interface Transition {
  draft: OutageDraft;
  effects: Effect[];
}

export const targetKey = (t: { project: { id: string }; environment: { id: string } }) =>
  `${t.project.id}/${t.environment.id}`;

/** A new draft; the project is chosen for the user when only one is eligible. */
export function startDraft(
  id: string,
  user: UserContext,
  conversation: ConversationContext,
  ctx: FlowContext,
  timeZone: string,
): OutageDraft {
  const only = ctx.targets.length === 1 ? ctx.targets[0] : undefined;
  const at = ctx.now.toISOString();
  return {
    id,
    kind: 'outage',
    rev: 0,
    step: only ? 'confirm' : 'project',
    tenantId: user.tenantId,
    reporter: { aadObjectId: user.aadObjectId, name: user.name, ...(user.email ? { email: user.email } : {}) },
    conversation,
    timeZone,
    ...(only ? { projectId: only.project.id, environmentId: only.environment.id } : {}),
    confirmed: 'false',
    scenarioId: '',
    title: '',
    details: '',
    contact: { name: user.name, email: user.email ?? '', phone: '' },
    errors: {},
    createdAt: at,
    updatedAt: at,
  };
}

/** The eligible target the draft points at, if it is still eligible. */
export function currentTarget(draft: OutageDraft, ctx: FlowContext): OutageTarget | undefined {
  return ctx.targets.find(
    (t) => t.project.id === draft.projectId && t.environment.id === draft.environmentId,
  );
}

export function advance(draft: OutageDraft, action: OutageAction, ctx: FlowContext): Transition {
  const next: OutageDraft = { ...draft, rev: draft.rev + 1, updatedAt: ctx.now.toISOString() };
  const d = action.data;
  // Whatever the user typed on this card is kept, valid or not, so nothing is ever lost.
  const keep = () => {
    if ('confirmed' in d && d.confirmed !== undefined) next.confirmed = d.confirmed;
    if ('scenarioId' in d && d.scenarioId !== undefined) next.scenarioId = d.scenarioId;
    if ('title' in d && d.title !== undefined) next.title = d.title;
    if ('details' in d && d.details !== undefined) next.details = d.details;
    next.contact = {
      name: 'name' in d && d.name !== undefined ? d.name : draft.contact.name,
      email: 'email' in d && d.email !== undefined ? d.email : draft.contact.email,
      phone: 'phone' in d && d.phone !== undefined ? d.phone : draft.contact.phone,
    };
  };
  const go = (step: OutageStep, errors: Record<string, string> = {}): Transition => {
    next.errors = errors;
    if (Object.keys(errors).length === 0) next.step = step;
    return { draft: next, effects: [] };
  };

  switch (action.verb) {
    case 'outage.project': {
      const key = action.data.projectKey;
      const chosen = ctx.targets.find((t) => targetKey(t) === key);
      if (!chosen) return go('project', { projectKey: 'Choose the project and environment that is down.' });
      next.projectId = chosen.project.id;
      next.environmentId = chosen.environment.id;
      return go('confirm');
    }
    case 'outage.confirm': {
      keep();
      const errors: Record<string, string> = {};
      if (next.confirmed !== 'true')
        errors.confirmed = "Confirm that this is a production outage, or choose “My situation isn't listed”.";
      if (!ctx.scenarios.some((s) => s.id === next.scenarioId))
        errors.scenarioId = 'Choose the outage scenario that fits best.';
      if (!currentTarget(next, ctx))
        errors.projectKey = 'This project can no longer take outage reports; start again with “report outage”.';
      return go('details', errors);
    }
    case 'outage.notListed':
      keep();
      return go('notListed');
    case 'outage.details': {
      keep();
      const t = go('contact', validateDetails(next));
      // The profile may have arrived after the draft was started.
      return next.step === 'contact' ? { ...t, draft: withProfileEmail(next, ctx.profileEmail) } : t;
    }
    case 'outage.contact': {
      keep();
      const errors = { ...validateDetails(next), ...validateContact(next.contact) };
      if (!currentTarget(next, ctx))
        errors.projectKey = 'This project can no longer take outage reports; start again with “report outage”.';
      if (Object.keys(errors).length > 0) return go('contact', errors);
      // The ticket is created by the caller in the same store write that moves the draft to done.
      next.errors = {};
      next.contact = normaliseContact(next.contact);
      next.title = next.title.trim();
      next.details = next.details.trim();
      return { draft: next, effects: [{ type: 'submitTicket' }] };
    }
    case 'outage.back': {
      keep();
      const previous: Partial<Record<OutageStep, OutageStep>> = {
        confirm: 'project',
        details: 'confirm',
        contact: 'details',
      };
      let to = previous[draft.step] ?? draft.step;
      if (to === 'project' && ctx.targets.length <= 1) to = 'confirm';
      return go(to);
    }
    case 'outage.cancel':
      return go('cancelled');
  }
}

/**
 * A draft once the Teams profile's e-mail is known (it may arrive after the draft was started): an
 * empty contact e-mail takes it, and so does a reporter without one. An e-mail typed stays.
 */
export function withProfileEmail<T extends { contact: { email: string }; reporter: { email?: string } }>(d: T, email: string | undefined): T {
  if (!email) return d;
  return {
    ...d,
    contact: d.contact.email.trim() === '' ? { ...d.contact, email } : d.contact,
    reporter: d.reporter.email ? d.reporter : { ...d.reporter, email },
  };
}

export function validateDetails(d: Pick<OutageDraft, 'title' | 'details'>): Record<string, string> {
  const errors: Record<string, string> = {};
  const title = d.title.trim();
  if (title.length === 0) errors.title = 'Enter a short title for the outage.';
  else if (title.length > 200) errors.title = `Keep the title to 200 characters (it has ${title.length}).`;
  const details = d.details.trim();
  if (details.length < 10)
    errors.details = 'Describe the outage: what users see, since when, and who is affected.';
  else if (details.length > 8000)
    errors.details = `Keep the details to 8,000 characters (they have ${details.length}).`;
  return errors;
}

const Email = z.email();
const PHONE = /^\+?[0-9][0-9 ().-]{5,24}$/;

export function validateContact(
  c: OutageDraft['contact'],
  messages: { phoneRequired?: string } = {},
): Record<string, string> {
  const errors: Record<string, string> = {};
  const name = c.name.trim();
  if (name.length === 0) errors.name = 'Enter the name of the person Microsoft Support should contact.';
  else if (name.length > 100) errors.name = 'Keep the name to 100 characters.';
  if (!Email.safeParse(c.email.trim()).success)
    errors.email = 'Enter a valid e-mail address, like name@contoso.com.';
  const phone = c.phone.trim();
  if (phone.length === 0)
    errors.phone = messages.phoneRequired ?? 'Enter a phone number: for an outage the engineer calls you within 30 minutes.';
  else if (!PHONE.test(phone)) errors.phone = 'Enter a phone number with digits only, like +1 425 555 0100.';
  return errors;
}

function normaliseContact(c: OutageDraft['contact']): OutageDraft['contact'] {
  return { name: c.name.trim(), email: c.email.trim(), phone: c.phone.trim() };
}

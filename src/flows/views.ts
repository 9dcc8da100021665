import { type Directory, PRODUCT_LABELS } from '../directory.js';
import type { Refusal } from '../domain/eligibility.js';
import type { Ticket } from '../domain/ticket.js';
import { formatClock, formatDateTime } from '../time.js';
import { currentTarget, type FlowContext, type OutageDraft, targetKey } from './outageFlow.js';

// View models: what each card shows, computed from state. The Teams layer binds them to the
// templates in cards/ (one template per `card`); every field a template binds is always present.

export type CardName =
  | 'outageProject'
  | 'outageConfirm'
  | 'outageDetails'
  | 'outageContact'
  | 'outageDone'
  | 'outageRefused'
  | 'message'
  | 'help'
  | 'deskTicket'
  | 'ticketNews'
  | 'ticketStatus'
  | 'ticketList'
  | 'plansList'
  | 'plansAddContract'
  | 'plansAddSa'
  | 'plansRemove'
  | 'plansOrganization'
  | 'incidentProject'
  | 'incidentCategory'
  | 'incidentArea'
  | 'incidentDescribe'
  | 'incidentScreenshots'
  | 'incidentContact'
  | 'incidentContract'
  | 'incidentDone'
  | 'incidentSolved'
  | 'incidentFiles'
  | 'incidentFormOpen'
  | 'searchResults'
  | 'incidentList';

export interface View {
  card: CardName;
  data: Record<string, unknown>;
}

export const OUTAGE_DEFINITION =
  'A production outage is one or more system-wide issues on a live production environment that ' +
  'impact multiple users and prevent your business from performing daily operations.';

const ERROR_FIELDS = ['projectKey', 'confirmed', 'scenarioId', 'title', 'details', 'name', 'email', 'phone'];

export interface ViewExtras {
  notice?: string;
  /** The ticket could not be saved: show phone support and keep everything. */
  saveFailed?: boolean;
  refusals?: Refusal[];
  ticket?: Ticket;
}

/**
 * What every button of a draft's card sends back: the draft and the revision the card shows (a
 * stale card's click is refused). Bound as one value (`"data": "${$root.action}"`) rather than a
 * binding per field: adaptivecards-templating evaluates each binding through adaptive-expressions,
 * about 3 µs apiece, and a card has up to six buttons.
 */
export function actionData(draft: { id: string; rev: number }): { draftId: string; rev: number } {
  return { draftId: draft.id, rev: draft.rev };
}

export function phoneList(directory: Directory) {
  return directory.phoneSupport.map((p) => ({ region: p.region, number: p.number, hours: p.hours }));
}

export function outageView(
  draft: OutageDraft,
  ctx: FlowContext,
  directory: Directory,
  extras: ViewExtras = {},
): View {
  // Built field by field into one object (each step adds its own): spreading a shared part into
  // each step's object and Object.fromEntries were most of this function's 5–13 µs a call.
  const errors: Record<string, string> = {};
  for (const f of ERROR_FIELDS) errors[f] = draft.errors[f] ?? '';
  const target = currentTarget(draft, ctx);
  const data: Record<string, unknown> = {
    draftId: draft.id,
    rev: draft.rev,
    action: actionData(draft),
    notice: extras.notice ?? '',
    errors,
    projectName: target?.project.name ?? '',
    environmentName: target?.environment.name ?? '',
    phones: phoneList(directory),
  };
  const notEligible = () => (extras.refusals ?? []).map((r) => ({ text: r.reason }));
  switch (draft.step) {
    case 'project':
      data.definition = OUTAGE_DEFINITION;
      // Input.ChoiceSet choices as they are ({ title, value }), bound as one value.
      data.choices = ctx.targets.map((t) => ({
        title: `${t.project.name}: ${t.environment.name} (${t.org.name})`,
        value: targetKey(t),
      }));
      data.projectKey = target ? targetKey(target) : '';
      data.notEligible = notEligible();
      return { card: 'outageProject', data };
    case 'confirm':
      data.definition = OUTAGE_DEFINITION;
      data.products = target ? target.project.products.map((p) => PRODUCT_LABELS[p]).join(', ') : '';
      data.scenarios = scenarioChoices(ctx.scenarios);
      data.scenarioId = draft.scenarioId;
      data.confirmed = draft.confirmed === 'true' ? 'true' : 'false';
      data.canGoBack = ctx.targets.length > 1;
      data.notEligible = notEligible();
      return { card: 'outageConfirm', data };
    case 'details':
      data.scenarioTitle = ctx.scenarios.find((s) => s.id === draft.scenarioId)?.title ?? '';
      data.title = draft.title;
      data.details = draft.details;
      return { card: 'outageDetails', data };
    case 'contact':
      data.name = draft.contact.name;
      data.email = draft.contact.email;
      data.phone = draft.contact.phone;
      data.saveFailed = extras.saveFailed === true;
      return { card: 'outageContact', data };
    case 'done': {
      const t = extras.ticket;
      if (!t) return messageView('Outage reported', `Your outage report was submitted as ${draft.ticketId}.`);
      return { card: 'outageDone', data: Object.assign(data, ticketFacts(t)) };
    }
    case 'notListed':
      return {
        card: 'message',
        data: {
          title: 'Submit a normal support incident',
          text:
            "Your situation isn't one of the production outage scenarios, so it goes to Microsoft Support " +
            'as a normal incident, with the SLA of your support plan: type “submit incident” to submit it ' +
            'here, or call phone support if your business is stopped.',
          notice: extras.notice ?? '',
          phones: phoneList(directory),
        },
      };
    case 'cancelled':
      return messageView(
        'Outage report cancelled',
        'Nothing was sent to Microsoft Support. Type “report outage” to start again.',
        extras.notice,
      );
  }
}

// The scenarios' choices, made once per list: the directory's list is fixed while it is loaded.
const scenarioChoiceLists = new WeakMap<readonly { id: string; title: string }[], { title: string; value: string }[]>();
function scenarioChoices(scenarios: readonly { id: string; title: string }[]): { title: string; value: string }[] {
  let choices = scenarioChoiceLists.get(scenarios);
  if (!choices) {
    choices = scenarios.map((s) => Object.freeze({ title: s.title, value: s.id }));
    Object.freeze(choices);
    scenarioChoiceLists.set(scenarios, choices);
  }
  return choices;
}

/** Ticket facts as shown to the reporter, times in the zone the ticket was reported from. */
export function ticketFacts(t: Ticket) {
  return {
    ticketNumber: t.id,
    severity: 'A (Critical)',
    submitted: formatDateTime(t.submittedAt, t.timeZone),
    ackDue: formatClock(t.ackDueAt, t.timeZone),
    ackDueFull: formatDateTime(t.ackDueAt, t.timeZone),
    projectName: t.projectName,
    environmentName: t.environmentName,
    scenarioTitle: t.scenarioTitle ?? '',
    title: t.title,
    contactName: t.contact.name,
    contactEmail: t.contact.email,
    contactPhone: t.contact.phone,
  };
}

export function refusedView(directory: Directory, refusals: Refusal[], notice = ''): View {
  return {
    card: 'outageRefused',
    data: {
      definition: OUTAGE_DEFINITION,
      reasons: refusals.map((r) => ({ text: r.reason })),
      phones: phoneList(directory),
      notice,
    },
  };
}

export function messageView(title: string, text: string, notice = ''): View {
  return { card: 'message', data: { title, text, notice, phones: [] } };
}

export function helpView(intro = ''): View {
  return {
    card: 'help',
    data: {
      intro,
      commands: [
        { command: 'report outage', text: 'Report a production outage to Microsoft Support (acknowledged within 30 minutes).' },
        {
          command: 'submit incident',
          text: 'Submit a support incident: category and area, describe it with possible solutions from Issue search, screenshots (personal chat), your contact, support plan and severity.',
        },
        { command: 'incident form', text: 'The whole incident in one Teams dialog, with possible solutions as you type.' },
        { command: 'status <ticket>', text: 'Show a ticket and its timeline, e.g. status OUT-100001.' },
        { command: 'my tickets', text: 'List your tickets and where each stands against its SLA.' },
        { command: 'my incidents', text: 'List your support incidents: number, severity, status and SLA, 10 a page, each with its timeline.' },
        {
          command: 'incidents',
          text: "Your incidents and, if you are a project owner or organisation admin, your project's incidents (current organisation).",
        },
        {
          command: 'search <words>',
          text: 'Search known issues (Issue search): the top 10 with KB number, status and link, e.g. search batch AND workflow status:open.',
        },
        { command: 'kb <number>', text: 'Open a known issue by its KB number, e.g. kb 4512345.' },
        {
          command: 'support plans',
          text: 'Show the support plans of your current organisation and project, with why you have each and the incidents left; add or remove a contract, add a Software Assurance plan.',
        },
        { command: 'add contract', text: 'Link a contract ID and access ID (or password) from your account manager to your login.' },
        { command: 'switch organisation', text: 'Choose your current organisation when you belong to several.' },
        { command: 'help', text: 'Show this list.' },
      ],
    },
  };
}

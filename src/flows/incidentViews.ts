import type { Directory } from '../directory.js';
import type { Ticket } from '../domain/ticket.js';
import type { UsablePlan } from '../plans/entitlements.js';
import type { IssueHit } from '../search/issueSearch.js';
import { statusColor } from '../search/knownIssue.js';
import { ALLOWED_TYPES_TEXT, formatSize, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS } from '../attachments/attachmentPolicy.js';
import { formatClock, formatDateTime } from '../time.js';
import {
  areaOf,
  categoryOf,
  type DraftAttachment,
  type IncidentDraft,
  type IncidentFlowContext,
  projectOf,
  SEVERITIES,
} from './incidentFlow.js';
import { actionData, messageView, phoneList, type View } from './views.js';

// What each incident card shows, computed from the draft (and the ticket once submitted). Every
// field a template binds is always present; the Teams layer binds them to cards/incident*.json.

const ERROR_FIELDS = [
  'projectId',
  'category',
  'area',
  'inEnvironment',
  'environmentId',
  'title',
  'details',
  'errorMessage',
  'name',
  'email',
  'phone',
  'contractRef',
  'severity',
  'confirmCritical',
  'confirm24x7',
  'subscriptionNumber',
  'contactEmail',
  'suggestions',
];

export interface IncidentViewExtras {
  notice?: string;
  noticeColor?: 'Good' | 'Warning' | 'Attention';
  /** Possible issue solutions for what the draft says so far (shown from the area step on). */
  suggestions?: IssueHit[];
  /** The ticket could not be saved: show phone support and keep everything. */
  saveFailed?: boolean;
  ticket?: Ticket;
  /** Contract step: what ties a plan to the project, when none is usable. */
  noContractsHelp?: string[];
  /** Where the card is shown: files can be sent to a bot only in personal chat. */
  here?: 'personal' | 'groupChat' | 'channel';
  /** A deep link to the user's personal chat with the bot. */
  personalChatUrl?: string;
  /** Solved: how many problems the article has solved so far. */
  solvedCount?: number;
}

const SUGGESTION_STEPS: ReadonlySet<string> = new Set(['area', 'describe', 'screenshots', 'contact', 'contract']);
/** Whether the card of a step shows possible issue solutions (from the area on, until submitted). */
export const showsSuggestions = (step: string) => SUGGESTION_STEPS.has(step);

export function incidentView(
  draft: IncidentDraft,
  ctx: IncidentFlowContext,
  directory: Directory,
  extras: IncidentViewExtras = {},
): View {
  const errors = Object.fromEntries(ERROR_FIELDS.map((f) => [f, draft.errors[f] ?? '']));
  const project = projectOf(draft, ctx);
  const category = categoryOf(draft, ctx);
  const area = areaOf(draft, ctx);
  const environment = project?.environments.find((e) => e.id === draft.environmentId);
  const common = {
    draftId: draft.id,
    rev: draft.rev,
    action: actionData(draft),
    notice: extras.notice ?? '',
    noticeColor: extras.noticeColor ?? 'Warning',
    errors,
    projectName: project ? project.name : '',
    orgName: project?.orgName ?? '',
    categoryName: category?.name ?? '',
    areaName: area?.name ?? '',
    environmentName: draft.inEnvironment === 'yes' ? (environment?.name ?? '') : 'Not in a particular environment',
    canGoBack: draft.step !== 'category' || ctx.projects.length > 1 || !draft.projectId,
    ...suggestionsView(draft, extras.suggestions ?? []),
  };
  switch (draft.step) {
    case 'project':
      return {
        card: 'incidentProject',
        data: {
          ...common,
          projects: ctx.projects.map((p) => ({ id: p.id, title: `${p.name} (${p.orgName})` })),
          projectId: draft.projectId ?? '',
        },
      };
    case 'category':
      return {
        card: 'incidentCategory',
        data: { ...common, categories: ctx.categories.map((c) => ({ id: c.id, title: c.name })), category: draft.category },
      };
    case 'area':
      return {
        card: 'incidentArea',
        data: { ...common, areas: (category?.areas ?? []).map((a) => ({ id: a.id, title: a.name })), area: draft.area },
      };
    case 'describe':
      return {
        card: 'incidentDescribe',
        data: {
          ...common,
          inEnvironment: draft.inEnvironment,
          environments: (project?.environments ?? []).map((e) => ({ id: e.id, title: `${e.name} (${e.type})` })),
          environmentId: draft.environmentId,
          title: draft.title,
          details: draft.details,
          errorMessage: draft.errorMessage,
        },
      };
    case 'screenshots': {
      const here = extras.here ?? draft.conversation.kind;
      return {
        card: 'incidentScreenshots',
        data: {
          ...common,
          personal: here === 'personal',
          personalChatUrl: extras.personalChatUrl ?? 'https://teams.microsoft.com',
          rules: attachmentRules(),
          ...attachmentList(draft.attachments),
          continueTitle: draft.attachments.length > 0 ? 'Continue' : 'Continue without screenshots',
        },
      };
    }
    case 'contact':
      return {
        card: 'incidentContact',
        data: { ...common, name: draft.contact.name, email: draft.contact.email, phone: draft.contact.phone },
      };
    case 'contract': {
      const earlier = ['projectId', 'category', 'area', 'inEnvironment', 'environmentId', 'title', 'details', 'errorMessage', 'name', 'email', 'phone']
        .map((f) => draft.errors[f])
        .filter(Boolean);
      return {
        card: 'incidentContract',
        data: {
          ...common,
          hasContracts: ctx.contracts.length > 0,
          hasUsable: ctx.contracts.some((c) => !c.incidents.limited || c.incidents.left > 0),
          contracts: ctx.contracts.map((c) => ({ ref: c.ref, title: contractTitle(c) })),
          contractRef: draft.contractRef,
          noContractsHelp: (extras.noContractsHelp ?? []).map((text) => ({ text })),
          severities: SEVERITIES.map((s) => ({ id: s.id, title: `${s.title}: ${s.meaning}` })),
          severity: draft.severity,
          confirmCritical: draft.confirmCritical === 'true' ? 'true' : 'false',
          confirm24x7: draft.confirm24x7 === 'true' ? 'true' : 'false',
          subscriptionNumber: draft.sa.subscriptionNumber,
          contactEmail: draft.sa.contactEmail,
          earlierErrors: earlier.length ? `${earlier.join(' ')} Go Back to fix it.` : '',
          saveFailed: extras.saveFailed === true,
          phones: phoneList(directory),
          attachmentsLine: draft.attachments.length
            ? `${draft.attachments.length} file${draft.attachments.length === 1 ? '' : 's'} attached: ${draft.attachments.map((a) => a.name).join(', ')}`
            : 'No files attached.',
        },
      };
    }
    case 'done': {
      const t = extras.ticket;
      if (!t) return messageView('Incident submitted', `Your incident was submitted as ${draft.ticketId}.`);
      return { card: 'incidentDone', data: { notice: extras.notice ?? '', ...incidentFacts(t) } };
    }
    case 'solved': {
      const s = draft.solvedBy;
      const count = extras.solvedCount ?? 1;
      return {
        card: 'incidentSolved',
        data: {
          title: s?.title ?? '',
          kbNumber: s?.kbNumber ?? '',
          link: s?.link ?? 'https://fix.lcs.dynamics.com',
          draftTitle: draft.title,
          countText: `This article has now solved ${count} problem${count === 1 ? '' : 's'} reported here.`,
        },
      };
    }
    case 'cancelled':
      return messageView(
        'Incident cancelled',
        'Nothing was sent to Microsoft Support. Type “submit incident” to start again.',
        extras.notice,
      );
  }
}

function suggestionsView(draft: IncidentDraft, hits: IssueHit[]) {
  const show = showsSuggestions(draft.step);
  const items = show
    ? hits.map((h) => ({
        draftId: draft.id,
        rev: draft.rev,
        issueId: h.issue.id,
        title: h.issue.title,
        kbNumber: h.issue.kbNumber,
        status: h.issue.status,
        statusColor: statusColor(h.issue.status),
        snippet: h.snippet,
        link: h.issue.link,
      }))
    : [];
  return { showSuggestions: show, suggestions: items };
}

/** "Premier (Premier Support for Enterprise)"; "Unified Advanced" already names its tier. */
export function contractName(c: UsablePlan): string {
  const tier = c.tier && !c.name.toLowerCase().includes(c.tier.toLowerCase()) ? ` (${c.tier})` : '';
  return `${c.name}${tier}`;
}

/** The plan as the contract card offers it: name, tier and incidents left. */
export function contractTitle(c: UsablePlan): string {
  const incidents = c.incidents.limited
    ? `${c.incidents.left} of ${c.incidents.total} incident${c.incidents.total === 1 ? '' : 's'} left`
    : 'unlimited incidents';
  return `${contractName(c)}: ${incidents}`;
}

export function attachmentRules(): string {
  return `Up to ${MAX_ATTACHMENTS} files, ${formatSize(MAX_ATTACHMENT_BYTES)} each: ${ALLOWED_TYPES_TEXT}.`;
}

export function attachmentList(attachments: readonly DraftAttachment[]) {
  return {
    attachedCount: `${attachments.length} of ${MAX_ATTACHMENTS}`,
    attached: attachments.map((a) => ({ text: `${a.name} (${formatSize(a.size)})` })),
  };
}

/** An incident as its reporter sees it after submitting; times in the zone it was submitted from. */
export function incidentFacts(t: Ticket) {
  const severity = SEVERITIES.find((s) => s.id === t.severity)?.title ?? t.severity;
  return {
    ticketNumber: t.id,
    severity,
    submitted: formatDateTime(t.submittedAt, t.timeZone),
    responseDue: formatClock(t.sla.dueAt, t.timeZone),
    responseDueFull: formatDateTime(t.sla.dueAt, t.timeZone),
    target: t.sla.target,
    projectName: t.projectName,
    environmentName: t.environmentName,
    category: t.category?.name ?? '',
    area: t.area?.name ?? '',
    title: t.title,
    contract: t.contract?.name ?? '',
    attachments: t.attachments?.length ? t.attachments.map((a) => a.name).join(', ') : 'None',
    contactName: t.contact.name,
    contactEmail: t.contact.email,
    contactPhone: t.contact.phone,
  };
}

export interface FileOutcome {
  name: string;
  accepted: boolean;
  /** Why it was refused, or "added". */
  text: string;
}

/** The answer to files sent in personal chat: each one accepted or refused, and the running list. */
export function filesView(draft: IncidentDraft, outcomes: FileOutcome[]): View {
  return {
    card: 'incidentFiles',
    data: {
      draftId: draft.id,
      rev: draft.rev,
      action: actionData(draft),
      draftTitle: draft.title || 'your incident',
      outcomes: outcomes.map((o) => ({
        text: `${o.accepted ? '✔' : '✖'} ${o.name}: ${o.text}`,
        color: o.accepted ? 'Good' : 'Attention',
      })),
      ...attachmentList(draft.attachments),
      rules: attachmentRules(),
      atScreenshots: draft.step === 'screenshots',
    },
  };
}

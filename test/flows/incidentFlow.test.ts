import { expect } from 'chai';
import {
  advanceIncident,
  finalizeIncident,
  type IncidentAction,
  type IncidentDraft,
  type IncidentEffect,
  type IncidentFlowContext,
  type IncidentStep,
  type ProjectOption,
  startIncidentDraft,
  validateAll,
} from '../../src/flows/incidentFlow.js';
import type { UsablePlan } from '../../src/plans/entitlements.js';
import { demoDirectory, demoUser } from '../helpers/fixtures.js';

const directory = demoDirectory();
const now = new Date('2026-11-21T14:00:00Z');
const alex = demoUser('alex');
const contoso = directory.organizations.find((o) => o.id === 'contoso')!;
const projects: ProjectOption[] = contoso.projects
  .filter((p) => p.members.some((m) => m.aadObjectId === alex.aadObjectId))
  .map((p) => ({ id: p.id, name: p.name, orgId: contoso.id, orgName: contoso.name, environments: p.environments }));
const contracts: UsablePlan[] = [
  { ref: 'contract:UNI-4400123', group: 'contract', kind: 'unified', name: 'Unified Advanced', tier: 'advanced', incidents: { limited: false }, slaPlan: 'unified-advanced' },
  { ref: 'login:contoso:incident-alex-1', group: 'login', kind: 'individual-incident', name: 'Individual incident', incidents: { limited: true, total: 1, used: 0, left: 1 } },
];
const issue = { id: 'gl-voucher', kbNumber: 'KB7802642', title: 'Voucher does not balance', link: 'https://fix.lcs.dynamics.com/Issue/Details?kb=7802642' };
const ctx: IncidentFlowContext = {
  projects,
  categories: directory.categories,
  contracts,
  knownIssue: (id) => (id === issue.id ? issue : undefined),
  now,
};
const oneProject: IncidentFlowContext = { ...ctx, projects: projects.slice(0, 1) };
const conversation = { id: 'conv-1', kind: 'personal' as const };

const described = {
  category: 'finance',
  area: 'general-ledger',
  inEnvironment: 'yes',
  environmentId: 'contoso-uat',
  title: 'Journal posting fails',
  details: 'Posting a general journal stops with a balance error. 1. Open the journal 2. Post.',
  errorMessage: 'The transactions on voucher GNJL000245 do not balance',
};
const contact = { name: 'Alex Wilber', email: 'alexw@example.com', phone: '+1 425 555 0100' };
const chosen = { contractRef: 'contract:UNI-4400123', severity: 'B', confirmCritical: 'false', confirm24x7: 'false' };

function draftAt(step: IncidentStep, patch: Partial<IncidentDraft> = {}): IncidentDraft {
  return {
    ...startIncidentDraft('d1', alex, conversation, ctx, 'America/New_York'),
    projectId: 'contoso-fo',
    orgId: 'contoso',
    step,
    ...patch,
  };
}
const full = (step: IncidentStep, patch: Partial<IncidentDraft> = {}) =>
  draftAt(step, { ...described, contact, ...chosen, ...patch });

type Data = Record<string, string | number>;
const act = (verb: IncidentAction['verb'], data: Data = {}) => ({ verb, data: { draftId: 'd1', rev: 0, ...data } }) as IncidentAction;

interface Row {
  name: string;
  from: IncidentDraft;
  action: IncidentAction;
  ctx?: IncidentFlowContext;
  step: IncidentStep;
  errors?: string[];
  effects?: IncidentEffect['type'][];
  keeps?: Partial<IncidentDraft>;
}

const rows: Row[] = [
  // project, category, area
  { name: 'asks for the category once the project is chosen', from: draftAt('project', { projectId: undefined }), action: act('incident.project', { projectId: 'contoso-ax2012' }), step: 'category', keeps: { projectId: 'contoso-ax2012', orgId: 'contoso' } },
  { name: 'refuses a project the user is not a member of', from: draftAt('project', { projectId: undefined }), action: act('incident.project', { projectId: 'contoso-commerce-pilot' }), step: 'project', errors: ['projectId'] },
  { name: 'forgets the environment and plan of the previous project', from: draftAt('project', { environmentId: 'contoso-uat', contractRef: 'contract:UNI-4400123' }), action: act('incident.project', { projectId: 'contoso-ax2012' }), step: 'category', keeps: { environmentId: '', contractRef: '' } },
  { name: 'asks for the area once the category is chosen', from: draftAt('category'), action: act('incident.category', { category: 'platform' }), step: 'area', keeps: { category: 'platform' } },
  { name: 'refuses an unknown category', from: draftAt('category'), action: act('incident.category', { category: 'pizza' }), step: 'category', errors: ['category'] },
  { name: 'clears the area when the category changes', from: draftAt('category', { category: 'finance', area: 'tax' }), action: act('incident.category', { category: 'platform' }), step: 'area', keeps: { area: '' } },
  { name: 'keeps the area when the same category is confirmed', from: draftAt('category', { category: 'finance', area: 'tax' }), action: act('incident.category', { category: 'finance' }), step: 'area', keeps: { area: 'tax' } },
  { name: 'asks to describe the issue once the area is chosen', from: draftAt('area', { category: 'platform' }), action: act('incident.area', { area: 'batch-jobs' }), step: 'describe' },
  { name: 'refuses an area of another category', from: draftAt('area', { category: 'platform' }), action: act('incident.area', { area: 'general-ledger' }), step: 'area', errors: ['area'] },
  // describe
  { name: 'asks for screenshots once the issue is described', from: draftAt('describe', { category: 'finance', area: 'general-ledger' }), action: act('incident.describe', described), step: 'screenshots', keeps: { title: described.title } },
  { name: 'accepts an issue that did not occur in an environment', from: draftAt('describe'), action: act('incident.describe', { ...described, inEnvironment: 'no', environmentId: '' }), step: 'screenshots' },
  { name: 'asks whether it occurred in an environment', from: draftAt('describe'), action: act('incident.describe', { ...described, inEnvironment: '' }), step: 'describe', errors: ['inEnvironment'] },
  { name: 'asks which environment when it occurred in one', from: draftAt('describe'), action: act('incident.describe', { ...described, environmentId: '' }), step: 'describe', errors: ['environmentId'] },
  { name: 'refuses an environment of another project', from: draftAt('describe'), action: act('incident.describe', { ...described, environmentId: 'ax2012-prod' }), step: 'describe', errors: ['environmentId'] },
  { name: 'keeps the details when the title is empty', from: draftAt('describe'), action: act('incident.describe', { ...described, title: '   ' }), step: 'describe', errors: ['title'], keeps: { details: described.details, errorMessage: described.errorMessage } },
  { name: 'refuses a title over 200 characters', from: draftAt('describe'), action: act('incident.describe', { ...described, title: 'x'.repeat(201) }), step: 'describe', errors: ['title'] },
  { name: 'refuses details without the steps', from: draftAt('describe'), action: act('incident.describe', { ...described, details: 'broken' }), step: 'describe', errors: ['details'] },
  { name: 'refuses an error message over 4,000 characters', from: draftAt('describe'), action: act('incident.describe', { ...described, errorMessage: 'e'.repeat(4001) }), step: 'describe', errors: ['errorMessage'] },
  // screenshots, contact
  { name: 'asks for the contact after the screenshots', from: draftAt('screenshots'), action: act('incident.screenshots'), step: 'contact' },
  { name: 'prefills an empty e-mail from a profile that came after the start', from: draftAt('screenshots', { contact: { name: 'Alex Wilber', email: '', phone: '' }, reporter: { aadObjectId: 'a1', name: 'Alex Wilber' } }), action: act('incident.screenshots'), ctx: { ...ctx, profileEmail: 'alexw@example.com' }, step: 'contact', keeps: { contact: { name: 'Alex Wilber', email: 'alexw@example.com', phone: '' }, reporter: { aadObjectId: 'a1', name: 'Alex Wilber', email: 'alexw@example.com' } } },
  { name: 'keeps an e-mail typed before over the profile', from: draftAt('screenshots', { contact: { name: 'Alex Wilber', email: 'oncall@contoso.com', phone: '' } }), action: act('incident.screenshots'), ctx: { ...ctx, profileEmail: 'alexw@example.com' }, step: 'contact', keeps: { contact: { name: 'Alex Wilber', email: 'oncall@contoso.com', phone: '' } } },
  { name: 'asks for the plan and severity once the contact is valid', from: draftAt('contact'), action: act('incident.contact', contact), step: 'contract' },
  { name: 'refuses a bad e-mail and keeps the phone', from: draftAt('contact'), action: act('incident.contact', { ...contact, email: 'alex@' }), step: 'contact', errors: ['email'], keeps: { contact: { ...contact, email: 'alex@' } } },
  { name: 'refuses an empty phone number', from: draftAt('contact'), action: act('incident.contact', { ...contact, phone: '' }), step: 'contact', errors: ['phone'] },
  // contract and severity
  { name: 'submits with a usable plan and severity B', from: full('contract'), action: act('incident.submit', chosen), step: 'contract', effects: ['submitTicket'] },
  { name: 'refuses a plan that is not usable for the project', from: full('contract'), action: act('incident.submit', { ...chosen, contractRef: 'contract:PREM-7654321' }), step: 'contract', errors: ['contractRef'] },
  { name: 'refuses when no plan can be used at all', from: full('contract'), ctx: { ...ctx, contracts: [] }, action: act('incident.submit', chosen), step: 'contract', errors: ['contractRef'] },
  { name: 'refuses a missing severity', from: full('contract'), action: act('incident.submit', { ...chosen, severity: '' }), step: 'contract', errors: ['severity'] },
  { name: 'refuses severity A without both confirmations', from: full('contract'), action: act('incident.submit', { ...chosen, severity: 'A' }), step: 'contract', errors: ['confirmCritical', 'confirm24x7'], keeps: { severity: 'A' } },
  { name: 'refuses severity A without 24x7 availability', from: full('contract'), action: act('incident.submit', { ...chosen, severity: 'A', confirmCritical: 'true' }), step: 'contract', errors: ['confirm24x7'], keeps: { confirmCritical: 'true' } },
  { name: 'submits severity A with both confirmations', from: full('contract'), action: act('incident.submit', { ...chosen, severity: 'A', confirmCritical: 'true', confirm24x7: 'true' }), step: 'contract', effects: ['submitTicket'] },
  { name: 'checks the earlier steps again on submit', from: full('contract', { title: '' }), action: act('incident.submit', chosen), step: 'contract', errors: ['title'] },
  { name: 'adds a Software Assurance plan, keeping the choices made', from: full('contract'), action: act('incident.addSa', { ...chosen, severity: 'C', subscriptionNumber: 'V7654321', contactEmail: 'sa@example.com' }), step: 'contract', effects: ['addSoftwareAssurance'], keeps: { severity: 'C', sa: { subscriptionNumber: 'V7654321', contactEmail: 'sa@example.com' } } },
  // back, refresh, solved, cancel
  { name: 'goes back from describe to the area keeping what was typed', from: draftAt('describe', { category: 'finance', area: 'tax' }), action: act('incident.back', { title: 'half typed', details: 'some' }), step: 'area', keeps: { title: 'half typed', details: 'some' } },
  { name: 'goes back from the contract to the contact keeping the severity', from: full('contract'), action: act('incident.back', { severity: 'C' }), step: 'contact', keeps: { severity: 'C' } },
  { name: 'goes back from the category to the project when there are several', from: draftAt('category'), action: act('incident.back'), step: 'project' },
  { name: 'stays at the category when there is only one project', from: draftAt('category'), ctx: oneProject, action: act('incident.back'), step: 'category' },
  { name: 'refreshes the suggestions keeping what was typed, without checking it', from: draftAt('describe'), action: act('incident.refresh', { title: 'posting', details: 'x' }), step: 'describe', keeps: { title: 'posting', details: 'x' } },
  { name: 'closes the draft as solved by a known issue', from: draftAt('describe'), action: act('incident.solved', { issueId: issue.id }), step: 'solved', effects: ['countSolved'], keeps: { solvedBy: { issueId: issue.id, kbNumber: issue.kbNumber, title: issue.title, link: issue.link } } },
  { name: 'refuses an entry that is no longer in the knowledge base', from: draftAt('describe'), action: act('incident.solved', { issueId: 'gone' }), step: 'describe', errors: ['suggestions'] },
  { name: 'cancels', from: draftAt('contact'), action: act('incident.cancel'), step: 'cancelled' },
];

describe('incidentFlow', () => {
  for (const row of rows)
    it(row.name, () => {
      const { draft, effects } = advanceIncident(row.from, row.action, row.ctx ?? ctx);
      expect(draft.step).to.equal(row.step);
      expect(Object.keys(draft.errors).sort()).to.deep.equal([...(row.errors ?? [])].sort());
      expect(effects.map((e) => e.type)).to.deep.equal(row.effects ?? []);
      expect(draft.rev).to.equal(row.from.rev + 1);
      for (const [key, value] of Object.entries(row.keeps ?? {})) expect(draft[key as keyof IncidentDraft]).to.deep.equal(value);
    });

  it('ignores a verb for another step (rev stays, nothing changes)', () => {
    const from = draftAt('describe');
    const { draft, effects } = advanceIncident(from, act('incident.submit', chosen), ctx);
    expect(draft).to.equal(from);
    expect(effects).to.deep.equal([]);
  });

  it('starts at the category when the user has one project, else at the project', () => {
    expect(startIncidentDraft('d', alex, conversation, oneProject, 'UTC').step).to.equal('category');
    expect(startIncidentDraft('d', alex, conversation, ctx, 'UTC').step).to.equal('project');
  });

  it('starts prefilled from an outage report: project, environment and what was typed', () => {
    const d = startIncidentDraft('d', alex, conversation, ctx, 'UTC', {
      projectId: 'contoso-fo',
      environmentId: 'contoso-prod',
      title: 'Invoices stuck',
      details: 'Only some users see it',
      fromOutage: 'o1',
    });
    expect(d).to.include({ step: 'category', projectId: 'contoso-fo', orgId: 'contoso', inEnvironment: 'yes', environmentId: 'contoso-prod', title: 'Invoices stuck', fromOutage: 'o1' });
    expect(d.contact).to.deep.equal({ name: 'Alex Wilber', email: 'alexw@example.com', phone: '' });
  });

  it('trims what is submitted and drops the environment when the issue was not in one', () => {
    const d = finalizeIncident(full('contract', { title: '  Posting fails  ', inEnvironment: 'no', environmentId: 'contoso-uat' }));
    expect(d.title).to.equal('Posting fails');
    expect(d.environmentId).to.equal('');
  });

  it('validates a whole draft at once (what the dialog form runs)', () => {
    expect(validateAll(full('contract'), ctx)).to.deep.equal({});
    expect(Object.keys(validateAll(full('contract', { category: 'finance', area: 'batch-jobs', contact: { ...contact, email: '' } }), ctx)).sort()).to.deep.equal(['area', 'email']);
  });
});

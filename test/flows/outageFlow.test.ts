import { expect } from 'chai';
import { outageEligibility } from '../../src/domain/eligibility.js';
import {
  advance,
  type FlowContext,
  type OutageAction,
  type OutageDraft,
  type OutageStep,
  startDraft,
} from '../../src/flows/outageFlow.js';
import { demoDirectory, demoUser } from '../helpers/fixtures.js';

const directory = demoDirectory();
const now = new Date('2026-11-21T17:00:00Z');
const alex = demoUser('alex');
const ctx: FlowContext = {
  targets: outageEligibility(directory, alex).targets,
  scenarios: directory.outageScenarios,
  now,
};
const conversation = { id: 'conv-1', kind: 'personal' as const };

function draftAt(step: OutageStep, patch: Partial<OutageDraft> = {}): OutageDraft {
  return { ...startDraft('d1', alex, conversation, ctx, 'America/New_York'), step, ...patch };
}

const ok = { title: 'Nobody can post invoices', details: 'Posting fails for all users since 9:00 with a timeout.' };
const contact = { name: 'Alex Wilber', email: 'alexw@example.com', phone: '+1 425 555 0100' };
type Data = Record<string, string | number>;
const act = (verb: OutageAction['verb'], data: Data = {}) =>
  ({ verb, data: { draftId: 'd1', rev: 0, ...data } }) as OutageAction;

interface Row {
  name: string;
  from: OutageDraft;
  action: OutageAction;
  ctx?: FlowContext;
  step: OutageStep;
  errors?: string[];
  submits?: boolean;
  keeps?: Partial<OutageDraft>;
}

const rows: Row[] = [
  { name: 'asks for title and details once the outage is confirmed with a scenario', from: draftAt('confirm'), action: act('outage.confirm', { confirmed: 'true', scenarioId: 'batch-stopped' }), step: 'details' },
  { name: 'refuses to continue without the confirmation, keeping the scenario', from: draftAt('confirm'), action: act('outage.confirm', { confirmed: 'false', scenarioId: 'sign-in' }), step: 'confirm', errors: ['confirmed'], keeps: { scenarioId: 'sign-in' } },
  { name: 'refuses an unknown scenario', from: draftAt('confirm'), action: act('outage.confirm', { confirmed: 'true', scenarioId: 'made-up' }), step: 'confirm', errors: ['scenarioId'] },
  { name: 'refuses a missing scenario and confirmation together', from: draftAt('confirm'), action: act('outage.confirm'), step: 'confirm', errors: ['confirmed', 'scenarioId'] },
  { name: 'leads to the incident route when the situation is not listed', from: draftAt('confirm'), action: act('outage.notListed'), step: 'notListed' },
  { name: 'asks for contact once title and details are given', from: draftAt('details'), action: act('outage.details', ok), step: 'contact', keeps: ok },
  { name: 'keeps the details when the title is empty', from: draftAt('details'), action: act('outage.details', { title: '  ', details: ok.details }), step: 'details', errors: ['title'], keeps: { details: ok.details } },
  { name: 'refuses a title over 200 characters', from: draftAt('details'), action: act('outage.details', { title: 'x'.repeat(201), details: ok.details }), step: 'details', errors: ['title'] },
  { name: 'refuses details that say nothing', from: draftAt('details'), action: act('outage.details', { title: ok.title, details: 'down' }), step: 'details', errors: ['details'] },
  { name: 'goes back from details to confirm keeping what was typed', from: draftAt('details'), action: act('outage.back', { title: 'half typed' }), step: 'confirm', keeps: { title: 'half typed' } },
  { name: 'goes back from contact to details keeping the phone typed', from: draftAt('contact', ok), action: act('outage.back', { phone: '+44 20 7946 0001' }), step: 'details', keeps: { contact: { ...contact, phone: '+44 20 7946 0001' } } },
  { name: 'does not go back to the project choice when only one project is eligible', from: draftAt('confirm'), action: act('outage.back'), step: 'confirm' },
  { name: 'submits when the contact is valid', from: draftAt('contact', ok), action: act('outage.contact', contact), step: 'contact', submits: true },
  { name: 'refuses a bad e-mail and keeps the phone', from: draftAt('contact', ok), action: act('outage.contact', { ...contact, email: 'alex@' }), step: 'contact', errors: ['email'], keeps: { contact: { ...contact, email: 'alex@' } } },
  { name: 'refuses an empty phone number', from: draftAt('contact', ok), action: act('outage.contact', { ...contact, phone: '' }), step: 'contact', errors: ['phone'] },
  { name: 'refuses letters in the phone number', from: draftAt('contact', ok), action: act('outage.contact', { ...contact, phone: 'call me' }), step: 'contact', errors: ['phone'] },
  { name: 'refuses an empty name', from: draftAt('contact', ok), action: act('outage.contact', { ...contact, name: ' ' }), step: 'contact', errors: ['name'] },
  { name: 'does not submit when the project is no longer eligible', from: draftAt('contact', ok), action: act('outage.contact', contact), ctx: { ...ctx, targets: [] }, step: 'contact', errors: ['projectKey'] },
  { name: 'prefills an empty e-mail from a profile that came after the start', from: draftAt('details', { contact: { name: 'Alex Wilber', email: '', phone: '' }, reporter: { aadObjectId: alex.aadObjectId, name: 'Alex Wilber' } }), action: act('outage.details', ok), ctx: { ...ctx, profileEmail: 'alexw@example.com' }, step: 'contact', keeps: { contact: { name: 'Alex Wilber', email: 'alexw@example.com', phone: '' }, reporter: { aadObjectId: alex.aadObjectId, name: 'Alex Wilber', email: 'alexw@example.com' } } },
  { name: 'keeps an e-mail typed before over the profile', from: draftAt('details', { contact: { name: 'Alex Wilber', email: 'oncall@contoso.com', phone: '' } }), action: act('outage.details', ok), ctx: { ...ctx, profileEmail: 'alexw@example.com' }, step: 'contact', keeps: { contact: { name: 'Alex Wilber', email: 'oncall@contoso.com', phone: '' } } },
  { name: 'does not prefill while the details are refused', from: draftAt('details', { contact: { name: 'Alex Wilber', email: '', phone: '' } }), action: act('outage.details', { title: '', details: ok.details }), ctx: { ...ctx, profileEmail: 'alexw@example.com' }, step: 'details', errors: ['title'], keeps: { contact: { name: 'Alex Wilber', email: '', phone: '' } } },
  { name: 'cancels from any step', from: draftAt('details'), action: act('outage.cancel'), step: 'cancelled' },
  { name: 'moves from the project choice to confirm', from: draftAt('project', { projectId: undefined, environmentId: undefined }), action: act('outage.project', { projectKey: 'contoso-fo/contoso-prod' }), step: 'confirm', keeps: { projectId: 'contoso-fo', environmentId: 'contoso-prod' } },
  { name: 'refuses a project the user may not report for', from: draftAt('project', { projectId: undefined, environmentId: undefined }), action: act('outage.project', { projectKey: 'fabrikam-fo/fabrikam-prod' }), step: 'project', errors: ['projectKey'] },
];

describe('outageFlow', () => {
  it('starts at the confirmation when only one project is eligible, prefilled from the profile', () => {
    const d = startDraft('d1', alex, conversation, ctx, 'America/New_York');
    expect(d.step).to.equal('confirm');
    expect(d.projectId).to.equal('contoso-fo');
    expect(d.contact).to.deep.equal({ name: 'Alex Wilber', email: 'alexw@example.com', phone: '' });
  });

  it('starts at the project choice when several projects are eligible', () => {
    const two = { ...ctx, targets: [...ctx.targets, { ...ctx.targets[0]!, environment: { ...ctx.targets[0]!.environment, id: 'p2' } }] };
    expect(startDraft('d1', alex, conversation, two, 'UTC').step).to.equal('project');
  });

  for (const row of rows)
    it(row.name, () => {
      const { draft, effects } = advance(row.from, row.action, row.ctx ?? ctx);
      expect(draft.step).to.equal(row.step);
      expect(draft.rev).to.equal(row.from.rev + 1);
      expect(Object.keys(draft.errors).sort()).to.deep.equal([...(row.errors ?? [])].sort());
      expect(effects.some((e) => e.type === 'submitTicket')).to.equal(row.submits ?? false);
      for (const [k, v] of Object.entries(row.keeps ?? {})) expect(draft[k as keyof OutageDraft]).to.deep.equal(v);
    });

  it('never changes the draft it was given', () => {
    const from = draftAt('details');
    const copy = structuredClone(from);
    advance(from, act('outage.details', ok), ctx);
    expect(from).to.deep.equal(copy);
  });
});

import { expect } from 'chai';
import { applyDeskAction, type DeskAction, type DeskContext } from '../../src/desk/deskActions.js';
import { DEFAULT_SLA_TABLE } from '../../src/domain/sla.js';
import type { Ticket } from '../../src/domain/ticket.js';
import { buildTicket } from '../../src/services/outageService.js';
import { demoDirectory, demoUser } from '../helpers/fixtures.js';
import { startDraft } from '../../src/flows/outageFlow.js';
import { outageEligibility } from '../../src/domain/eligibility.js';

const directory = demoDirectory();
const submitted = new Date('2026-11-23T15:00:00Z'); // a Monday, 7:00 AM in Los Angeles
const alex = demoUser('alex');
const targets = outageEligibility(directory, alex).targets;
const draft = {
  ...startDraft('d1', alex, { id: 'c1', kind: 'personal' }, { targets, scenarios: directory.outageScenarios, now: submitted }, 'America/Los_Angeles'),
  scenarioId: 'sign-in',
  title: 'Nobody can sign in',
  details: 'All users get AADSTS errors since 6:45.',
  contact: { name: 'Alex Wilber', email: 'alexw@example.com', phone: '+1 425 555 0100' },
};
const fresh = (): Ticket => buildTicket(draft, directory, 100001, submitted, {});
const patti = { aadObjectId: '00000000-0000-0000-0000-0000000000024', name: 'Patti Fernandez' };
const lynne = { aadObjectId: '00000000-0000-0000-0000-0000000000025', name: 'Lynne Robbins' };
const minutes = (m: number) => new Date(submitted.getTime() + m * 60_000);
const ctx = (m: number, actor = patti): DeskContext => ({
  now: minutes(m),
  actor,
  queues: directory.desk.queues,
  plan: 'premier',
  slaTable: DEFAULT_SLA_TABLE,
  timeZone: 'America/Los_Angeles',
  businessHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] },
  warningLeadMinutes: 10,
});
const act = (verb: DeskAction['verb'], data: Record<string, unknown> = {}, rev = 0) =>
  ({ verb, data: { ticketId: 'OUT-100001', rev, ...data } }) as DeskAction;
const acked = (m = 12) => applyDeskAction(fresh(), act('desk.acknowledge'), ctx(m)).ticket;
const resolved = () => applyDeskAction(acked(), act('desk.resolve', { resolution: 'Certificate renewed.' }, 1), ctx(60)).ticket;

interface Row {
  name: string;
  from: () => Ticket;
  action: DeskAction;
  at?: number;
  actor?: typeof patti;
  changed: boolean;
  errors?: string[];
  expect?: (t: Ticket) => void;
  news?: RegExp;
}

const rows: Row[] = [
  { name: 'acknowledges within the target and tells the reporter the minutes', from: fresh, action: act('desk.acknowledge'), at: 12, changed: true,
    expect: (t) => expect(t.acknowledged).to.deep.include({ minutes: 12, met: true }), news: /12 minutes after submission, within the 30 minutes target/ },
  { name: 'records a late acknowledgement as missed', from: fresh, action: act('desk.acknowledge'), at: 41, changed: true,
    expect: (t) => expect(t.acknowledged?.met).to.equal(false), news: /41 minutes after submission, missing the 30 minutes target/ },
  { name: 'makes one acknowledgement when two engineers press together', from: acked, action: act('desk.acknowledge'), actor: lynne, changed: false,
    expect: (t) => expect(t.acknowledged?.by.name).to.equal('Patti Fernandez') },
  { name: 'assigns to the engineer who asks', from: acked, action: act('desk.assign', {}, 1), actor: lynne, changed: true,
    expect: (t) => expect(t.assignee?.name).to.equal('Lynne Robbins'), news: /Lynne Robbins from Microsoft Support now owns/ },
  { name: 'ignores assigning to the current assignee', from: acked, action: act('desk.assign', {}, 1), changed: false },
  { name: 'relays a status update', from: acked, action: act('desk.update', { updateText: 'Failover started.' }, 1), changed: true, news: /^Failover started\.$/ },
  { name: 'refuses an empty status update', from: acked, action: act('desk.update', { updateText: ' ' }, 1), changed: false, errors: ['updateText'] },
  { name: 'posts a replayed update once', from: () => applyDeskAction(acked(), act('desk.update', { updateText: 'Failover started.' }, 1), ctx(20)).ticket,
    action: act('desk.update', { updateText: 'Failover started.' }, 1), changed: false },
  { name: 'transfers a non-outage to a normal incident with the plan’s SLA', from: fresh, action: act('desk.transfer', { transferTo: 'incident', severity: 'B', transferReason: 'Only one user is affected.' }), at: 5, changed: true,
    expect: (t) => {
      expect(t).to.include({ kind: 'incident', severity: 'B', queue: 'fo-support' });
      expect(t.sla).to.include({ kind: 'response', target: '2 hours, 24x7', dueAt: minutes(125).toISOString() });
    }, news: /not a production outage.*Premier, severity B: first response within 2 hours, 24x7.*Only one user is affected/ },
  { name: 'counts business hours for a severity C Premier incident', from: fresh, action: act('desk.transfer', { transferTo: 'incident', severity: 'C', transferReason: 'Cosmetic issue.' }), at: 0, changed: true,
    // submitted 7:00 AM Monday in Los Angeles: business hours start at 9:00, so 4 hours later is 1:00 PM
    expect: (t) => expect(t.sla.dueAt).to.equal('2026-11-23T21:00:00.000Z') },
  { name: 'refuses a transfer without a reason or severity', from: fresh, action: act('desk.transfer', { transferTo: 'incident' }), changed: false, errors: ['severity', 'transferReason'] },
  { name: 'transfers to another queue', from: acked, action: act('desk.transfer', { transferTo: 'fo-support', transferReason: 'Needs the finance team.' }, 1), changed: true,
    expect: (t) => expect(t.queue).to.equal('fo-support'), news: /moved to the Finance and Operations support team/ },
  { name: 'refuses an unknown queue', from: acked, action: act('desk.transfer', { transferTo: 'nowhere', transferReason: 'x y z' }, 1), changed: false, errors: ['transferTo'] },
  { name: 'resolves with a resolution', from: acked, action: act('desk.resolve', { resolution: 'Certificate renewed.' }, 1), changed: true,
    expect: (t) => expect(t).to.include({ status: 'resolved', resolution: 'Certificate renewed.' }), news: /Resolution: Certificate renewed\./ },
  { name: 'refuses to resolve without a resolution', from: acked, action: act('desk.resolve', {}, 1), changed: false, errors: ['resolution'] },
  { name: 'resolves once when pressed twice', from: resolved, action: act('desk.resolve', { resolution: 'Certificate renewed.' }, 1), changed: false },
  { name: 'reopens a resolved ticket as acknowledged', from: resolved, action: act('desk.reopen', { reopenReason: 'It came back.' }, 2), changed: true,
    expect: (t) => expect(t.status).to.equal('acknowledged'), news: /reopened your outage: It came back\./ },
  { name: 'ignores reopening an open ticket', from: acked, action: act('desk.reopen', {}, 1), changed: false },
  { name: 'refuses to acknowledge a resolved ticket', from: () => applyDeskAction(fresh(), act('desk.resolve', { resolution: 'Fixed itself.' }), ctx(3)).ticket, action: act('desk.acknowledge', {}, 1), changed: false, errors: ['ticket'] },
];

describe('deskActions', () => {
  for (const row of rows)
    it(row.name, () => {
      const before = row.from();
      const r = applyDeskAction(before, row.action, ctx(row.at ?? 15, row.actor));
      expect(r.changed).to.equal(row.changed);
      expect(Object.keys(r.errors).sort()).to.deep.equal([...(row.errors ?? [])].sort());
      if (row.changed) {
        expect(r.ticket.rev).to.equal(before.rev + 1);
        expect(r.ticket.timeline).to.have.length(before.timeline.length + 1);
      } else {
        expect(r.ticket).to.equal(before);
        expect(r.news).to.deep.equal([]);
      }
      row.expect?.(r.ticket);
      if (row.news) expect(r.news.map((n) => n.text).join('\n')).to.match(row.news);
    });

  it('gives each change its own event id so the outbox never merges two updates', () => {
    let t = acked();
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const r = applyDeskAction(t, act('desk.update', { updateText: `update ${text}` }, t.rev), ctx(20));
      ids.push(r.news[0]!.event);
      t = r.ticket;
    }
    expect(new Set(ids).size).to.equal(3);
  });
});

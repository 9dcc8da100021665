// The desk loop against the store (issue 3 items 1, 2, 3, 5): the desk card and deadlines go in the
// ticket's own write, only desk members act, actions are idempotent under concurrency, the
// reporter (and a linked channel) hears each change, delivery failures are recorded, and status /
// my tickets respect tenants and projects.

import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeskAction } from '../../src/desk/deskActions.js';
import type { Ticket } from '../../src/domain/ticket.js';
import type { UserContext } from '../../src/domain/user.js';
import type { OutageDraft } from '../../src/flows/outageFlow.js';
import { silentLogger } from '../../src/logger.js';
import { DeliveryError } from '../../src/outbox/notifier.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { OUTBOX_COLLECTION, type OutboxItem } from '../../src/outbox/outboxItem.js';
import { ManualTimers } from '../../src/outbox/timers.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { activeKey } from '../../src/services/outageService.js';
import { FaultyStore } from '../../src/store/faultyStore.js';
import { openLowdbStore } from '../../src/store/lowdbStore.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/time.js';
import { demoUser } from '../helpers/fixtures.js';
import { drain } from '../outbox/drive.js';
import { permanent, RecordingNotifier } from '../outbox/recordingNotifier.js';
import {
  ALEX,
  ALL_INDEXES,
  cardDataOf,
  sentCardDataOf,
  CONTACT,
  deadlinesIn,
  DESK_CHANNEL,
  deskDirectory,
  FABRIKAM_OWNER,
  itemsOf,
  LINKED_CHANNEL,
  LYNNE,
  newsText,
  PATTI,
  RecordingStore,
  reportOutage,
  ticketOf,
  wireLoop,
} from './deskHarness.js';

const T0 = new Date('2026-11-23T15:00:00Z'); // Monday, 7:00 AM in Los Angeles
const minutes = (m: number) => new Date(T0.getTime() + m * 60_000);
const ALEX_CHAT = { id: 'a:alex-personal', kind: 'personal' as const };

async function setup(options: { store?: Store; linkedChannel?: boolean } = {}) {
  const store = options.store ?? new MemoryStore({ indexes: ALL_INDEXES });
  const clock = new ManualClock(T0);
  const directory = deskDirectory({ linkedChannel: options.linkedChannel });
  const loop = wireLoop({ store, directory, clock });
  const report = (user: UserContext = ALEX, conversation: { id: string; kind: 'personal' | 'groupChat' | 'channel' } = ALEX_CHAT, extra = {}) =>
    reportOutage(store, loop.outage, user, conversation, extra);
  const act = async (user: UserContext, verb: DeskAction['verb'], ticketId: string, data: Record<string, unknown> = {}) => {
    const rev = (await store.get<Ticket>(COLLECTIONS.tickets, ticketId))?.value.rev ?? 0;
    return loop.desk.act(user, { verb, data: { ticketId, rev, ...data } } as DeskAction);
  };
  return { store, clock, directory, loop, desk: loop.desk, report, act };
}

describe('DeskService: a new ticket', () => {
  it('posts one desk card in the same write as the ticket, whose deadlines are indexed with it', async () => {
    const store = new RecordingStore(new MemoryStore({ indexes: ALL_INDEXES }));
    const { report, loop } = await setup({ store });
    const ticket = (await report())!;
    const batch = store.batches.find((b) => b.some((op) => op.collection === COLLECTIONS.tickets))!;
    expect(batch.map((op) => `${op.op} ${op.collection}/${op.id}`)).to.have.members([
      'put counters/tickets',
      `put tickets/${ticket.id}`,
      `put drafts/${ticket.draftId}`,
      `put outbox/${ticket.id}:desk:card`,
    ]);
    expect((await deadlinesIn(store)).map((d) => [d.id, d.at])).to.deep.equal([
      [`${ticket.id}:escalate`, ticket.sla.dueAt],
      [`${ticket.id}:warn`, ticket.sla.warnAt],
    ]);
    expect(batch.find((op) => op.collection === OUTBOX_COLLECTION)).to.deep.include({ ifMatch: 'absent' });
    expect(store.batches.filter((b) => b.some((op) => op.collection === OUTBOX_COLLECTION))).to.have.length(1);

    const [card, ...rest] = await itemsOf(store, ticket.id);
    expect(rest).to.deep.equal([]);
    expect(card).to.deep.include({ id: `${ticket.id}:desk:card`, op: 'post', conversationId: DESK_CHANNEL, status: 'pending' });
    expect(card!.target).to.deep.equal({ conversationId: DESK_CHANNEL });
    // The item names the ticket; its card is rendered from the ticket when the item is sent.
    expect(card!.payload).to.deep.equal({ kind: 'deskCard', ticketId: ticket.id });
    const rendered = await loop.desk.render({ kind: 'deskCard', ticketId: ticket.id });
    expect(rendered).to.deep.include({ kind: 'card', card: 'deskTicket' });
    const data = await sentCardDataOf(loop.desk, card!);
    expect(data).to.deep.include({ ticketId: ticket.id, headline: `${ticket.id}: Nobody can sign in`, details: 'All users get AADSTS errors since 6:45.', canAcknowledge: true });
    expect(data.sla).to.equal('Acknowledgement due by 10:30 AM EST (30 minutes, 24x7)'); // in the reporter's zone
    const facts = Object.fromEntries((data.facts as { title: string; value: string }[]).map((f) => [f.title, f.value]));
    expect(facts).to.deep.include({
      Severity: 'A (Critical)',
      Project: 'Contoso Finance and Operations',
      Environment: 'CONTOSO-PROD',
      Scenario: 'Users cannot sign in to production',
      Reporter: 'Alex Wilber',
      Contact: `${CONTACT.name}, ${CONTACT.email}, ${CONTACT.phone}`,
    });
    // the scheduler and the outbox are told only after the write succeeded
    expect(loop.announced).to.deep.equal([
      {
        ticketId: ticket.id,
        pending: [
          { id: `${ticket.id}:warn`, ticketId: ticket.id, kind: 'warn', at: ticket.sla.warnAt },
          { id: `${ticket.id}:escalate`, ticketId: ticket.id, kind: 'escalate', at: ticket.sla.dueAt },
        ],
      },
    ]);
    expect(loop.wakes).to.equal(1);
  });

  it('writes neither the ticket nor its desk card nor its deadlines when that write fails', async () => {
    const faulty = new FaultyStore(new MemoryStore({ indexes: ALL_INDEXES }));
    const { report, loop, store } = await setup({ store: faulty });
    const ticket = await report(ALEX, ALEX_CHAT, { beforeSubmit: () => faulty.failNextWrites(1) });
    expect(ticket).to.equal(undefined);
    expect(faulty.injectedFailures).to.equal(1);
    for (const collection of [COLLECTIONS.tickets, OUTBOX_COLLECTION, COLLECTIONS.counters])
      expect(await store.count(collection), collection).to.equal(0);
    expect(await deadlinesIn(store)).to.deep.equal([]);
    expect(loop.announced).to.deep.equal([]);
    expect(loop.wakes).to.equal(0);

    // The card kept what was typed: pressing Submit again creates the ticket with one desk card.
    const [draft] = await store.find<OutageDraft>(COLLECTIONS.drafts, 'active', activeKey(ALEX_CHAT.id, ALEX.aadObjectId));
    await loop.outage.act(ALEX, { verb: 'outage.contact', data: { draftId: draft!.id, rev: draft!.value.rev, ...CONTACT } });
    const tickets = await store.find<Ticket>(COLLECTIONS.tickets, 'reporter', ALEX.aadObjectId);
    expect(tickets).to.have.length(1);
    expect((await itemsOf(store, tickets[0]!.id)).map((i) => i.id)).to.deep.equal([`${tickets[0]!.id}:desk:card`]);
    expect(await deadlinesIn(store)).to.have.length(2);
  });
});

describe('DeskService: desk actions', () => {
  const verbs: [DeskAction['verb'], Record<string, unknown>][] = [
    ['desk.acknowledge', {}],
    ['desk.assign', {}],
    ['desk.update', { updateText: 'I fixed it myself.' }],
    ['desk.transfer', { transferTo: 'fo-support', transferReason: 'Wrong team.' }],
    ['desk.resolve', { resolution: 'Nothing to do.' }],
    ['desk.reopen', {}],
  ];
  for (const who of ['alex', 'megan'] as const)
    for (const [verb, data] of verbs)
      it(`refuses ${verb} from ${who} (not on the desk) and changes nothing`, async () => {
        const { store, report, act } = await setup();
        const ticket = (await report())!;
        const before = await store.get<Ticket>(COLLECTIONS.tickets, ticket.id);
        const outbox = await store.count(OUTBOX_COLLECTION);
        const view = await act(demoUser(who), verb, ticket.id, data);
        expect(view.card).to.equal('deskTicket');
        expect(view.data.notice).to.equal('Only members of Microsoft Support (demo desk) can act on tickets. Nothing was changed.');
        expect(await store.get<Ticket>(COLLECTIONS.tickets, ticket.id)).to.deep.equal(before);
        expect(await store.count(OUTBOX_COLLECTION)).to.equal(outbox);
      });

  const backends: { name: string; open(): Promise<{ store: Store; done(): Promise<void> }> }[] = [
    { name: 'memory', open: async () => ({ store: new MemoryStore({ indexes: ALL_INDEXES }), done: async () => undefined }) },
    {
      name: 'lowdb',
      async open() {
        const dir = await mkdtemp(join(tmpdir(), 'desk-'));
        const store = await openLowdbStore({ dir, indexes: ALL_INDEXES });
        return { store, done: async () => (await store.close(), await rm(dir, { recursive: true, force: true })) };
      },
    },
  ];
  for (const backend of backends)
    it(`makes one acknowledgement when two engineers press Acknowledge together (${backend.name})`, async () => {
      const { store, done } = await backend.open();
      try {
        const { report, act, clock } = await setup({ store });
        const ticket = (await report())!;
        clock.set(minutes(12));
        const views = await Promise.all([
          act(PATTI, 'desk.acknowledge', ticket.id),
          act(LYNNE, 'desk.acknowledge', ticket.id),
          act(PATTI, 'desk.acknowledge', ticket.id), // a double click
        ]);
        for (const v of views) expect(v.data).to.deep.include({ canAcknowledge: false, notice: '' });
        const t = await ticketOf(store, ticket.id);
        expect(t.timeline.filter((e) => e.type === 'acknowledged')).to.have.length(1);
        expect(t.rev).to.equal(1);
        const ids = (await itemsOf(store, ticket.id)).map((i) => i.id);
        expect(ids).to.deep.equal([`${ticket.id}:desk:card`, `${ticket.id}:desk:card:r1`, `${ticket.id}:ack:reporter`]);
      } finally {
        await done();
      }
    });

  interface Row {
    verb: DeskAction['verb'];
    by: UserContext;
    at: number;
    data?: Record<string, unknown>;
    type: Ticket['timeline'][number]['type'];
    event: RegExp;
    news: RegExp;
    status: string;
  }
  const rows: Row[] = [
    { verb: 'desk.acknowledge', by: PATTI, at: 12, type: 'acknowledged', event: /^ack$/, status: 'Acknowledged, in progress',
      news: /Patti Fernandez from Microsoft Support acknowledged your outage “Nobody can sign in” 12 minutes after submission, within the 30 minutes target/ },
    { verb: 'desk.assign', by: LYNNE, at: 14, type: 'assigned', event: /^assign-\d+$/, status: 'Acknowledged, in progress', news: /Lynne Robbins from Microsoft Support now owns your outage/ },
    { verb: 'desk.update', by: LYNNE, at: 20, data: { updateText: 'Failover to the secondary region started.' }, type: 'update', event: /^update-\d+$/,
      status: 'Acknowledged, in progress', news: /status update from Lynne Robbins\nFailover to the secondary region started\.$/ },
    { verb: 'desk.transfer', by: LYNNE, at: 25, data: { transferTo: 'fo-support', transferReason: 'Needs the finance team.' }, type: 'transferred', event: /^transfer-\d+$/,
      status: 'Acknowledged, in progress', news: /moved to the Finance and Operations support team\. Why: Needs the finance team\./ },
    { verb: 'desk.resolve', by: LYNNE, at: 50, data: { resolution: 'Certificate renewed.' }, type: 'resolved', event: /^resolve-\d+$/, status: 'Resolved', news: /Resolution: Certificate renewed\./ },
    { verb: 'desk.reopen', by: PATTI, at: 70, data: { reopenReason: 'It came back.' }, type: 'reopened', event: /^reopen-\d+$/, status: 'Acknowledged, in progress', news: /reopened your outage: It came back\./ },
  ];

  it('appends each action to the timeline, updates the desk card and tells the reporter', async () => {
    const { store, report, act, clock, loop } = await setup();
    const ticket = (await report())!;
    for (const row of rows) {
      const before = await ticketOf(store, ticket.id);
      const known = new Set((await itemsOf(store, ticket.id)).map((i) => i.id));
      const wakes = loop.wakes;
      clock.set(minutes(row.at));
      const view = await act(row.by, row.verb, ticket.id, row.data);
      const t = await ticketOf(store, ticket.id);
      expect(t.rev, row.verb).to.equal(before.rev + 1);
      expect(t.timeline.slice(0, -1)).to.deep.equal(before.timeline);
      expect(t.timeline.at(-1), row.verb).to.deep.include({ type: row.type, at: minutes(row.at).toISOString(), by: { aadObjectId: row.by.aadObjectId, name: row.by.name } });
      expect(view.data).to.deep.include({ rev: t.rev, status: row.status });

      const added = (await itemsOf(store, ticket.id)).filter((i) => !known.has(i.id));
      expect(added, row.verb).to.have.length(2);
      const [update, news] = added as [OutboxItem, OutboxItem];
      expect(update).to.deep.include({ id: `${ticket.id}:desk:card:r${t.rev}`, op: 'update', conversationId: DESK_CHANNEL });
      expect(update.target).to.deep.equal({ conversationId: DESK_CHANNEL, activityOf: `${ticket.id}:desk:card` });
      expect(update.payload).to.deep.equal({ kind: 'deskCard', ticketId: ticket.id });
      expect(await sentCardDataOf(loop.desk, update)).to.deep.include({ rev: t.rev, status: row.status });
      expect(news).to.deep.include({ op: 'post', conversationId: ALEX_CHAT.id });
      expect(news.target).to.deep.equal({ conversationId: ALEX_CHAT.id });
      expect(news.id.replace(`${ticket.id}:`, '').replace(/:reporter$/, ''), row.verb).to.match(row.event);
      expect(newsText(news), row.verb).to.match(row.news);
      expect(cardDataOf(news).ticketId).to.equal(ticket.id);
      expect(loop.wakes).to.equal(wakes + 1);
    }
  });

  it('changes nothing and sends nothing when finished actions are replayed', async () => {
    const { store, report, act, loop } = await setup();
    const ticket = (await report())!;
    await act(PATTI, 'desk.acknowledge', ticket.id);
    const rev = (await ticketOf(store, ticket.id)).rev;
    await act(PATTI, 'desk.update', ticket.id, { updateText: 'Failover started.' });
    await act(PATTI, 'desk.resolve', ticket.id, { resolution: 'Certificate renewed.' });
    const before = await store.get<Ticket>(COLLECTIONS.tickets, ticket.id);
    const items = await store.count(OUTBOX_COLLECTION);
    await act(LYNNE, 'desk.acknowledge', ticket.id);
    await loop.desk.act(PATTI, { verb: 'desk.update', data: { ticketId: ticket.id, rev, updateText: 'Failover started.' } }); // a replayed invoke
    await act(PATTI, 'desk.resolve', ticket.id, { resolution: 'Certificate renewed.' });
    await act(PATTI, 'desk.assign', ticket.id); // already hers since she acknowledged
    expect(await store.get<Ticket>(COLLECTIONS.tickets, ticket.id)).to.deep.equal(before);
    expect(await store.count(OUTBOX_COLLECTION)).to.equal(items);
  });

  it('sends a channel origin its news in the conversation (thread) it came from', async () => {
    const channelThread = { id: '19:contoso-general@thread.tacv2;messageid=1711111111111', kind: 'channel' as const };
    const { store, report, act } = await setup();
    const ticket = (await report(ALEX, channelThread, { activityId: 'card-activity-1' }))!;
    expect(ticket.origin).to.deep.equal({ conversationId: channelThread.id, conversationKind: 'channel', activityId: 'card-activity-1' });
    await act(PATTI, 'desk.acknowledge', ticket.id);
    await act(PATTI, 'desk.update', ticket.id, { updateText: 'Failover started.' });
    const news = (await itemsOf(store, ticket.id)).filter((i) => i.conversationId !== DESK_CHANNEL);
    expect(news.map((i) => [i.op, i.target.conversationId])).to.deep.equal([
      ['post', channelThread.id],
      ['post', channelThread.id],
    ]);
    for (const n of news) expect(newsText(n)).to.include(ticket.id); // names the ticket
  });

  it('also posts to the project’s linked channel: the new ticket, then each change as a thread reply', async () => {
    const { store, report, act } = await setup({ linkedChannel: true });
    const ticket = (await report())!;
    const first = await itemsOf(store, ticket.id);
    expect(first.map((i) => [i.id, i.op, i.target.conversationId])).to.deep.equal([
      [`${ticket.id}:desk:card`, 'post', DESK_CHANNEL],
      [`${ticket.id}:linked:submitted`, 'post', LINKED_CHANNEL],
    ]);
    expect(newsText(first[1]!)).to.match(/Alex Wilber reported a production outage: OUT-\d+/);
    await act(PATTI, 'desk.acknowledge', ticket.id);
    await act(PATTI, 'desk.update', ticket.id, { updateText: 'Failover started.' });
    const linked = (await itemsOf(store, ticket.id)).filter((i) => i.conversationId === LINKED_CHANNEL).slice(1);
    expect(linked.map((i) => [i.id, i.op, i.target])).to.deep.equal([
      [`${ticket.id}:ack:linked`, 'reply', { conversationId: LINKED_CHANNEL, threadOf: `${ticket.id}:linked:submitted` }],
      [`${ticket.id}:update-2:linked`, 'reply', { conversationId: LINKED_CHANNEL, threadOf: `${ticket.id}:linked:submitted` }],
    ]);
    const reporter = (await itemsOf(store, ticket.id)).filter((i) => i.conversationId === ALEX_CHAT.id);
    expect(linked.map((i) => i.payload)).to.deep.equal(reporter.map((i) => i.payload));
  });
});

describe('DeskService: delivery failures', () => {
  it('records an undeliverable message on the ticket and updates the desk card', async () => {
    const { store, report, act, desk, clock } = await setup();
    const ticket = (await report())!;
    await act(PATTI, 'desk.acknowledge', ticket.id);
    const reporterItem = (await itemsOf(store, ticket.id)).find((i) => i.id.endsWith(':ack:reporter'))!;
    clock.set(minutes(13));
    const ops = await desk.onPermanentFailure(reporterItem, new DeliveryError('HTTP 403', { status: 403, permanent: true }));
    await store.write(ops);
    const t = await ticketOf(store, ticket.id);
    expect(t.deliveryProblems).to.deep.equal([{ at: minutes(13).toISOString(), conversationId: ALEX_CHAT.id, message: 'HTTP 403' }]);
    expect(t.timeline.at(-1)).to.deep.include({ type: 'delivery-failed', by: { aadObjectId: 'system', name: 'Delivery' } });
    const update = (await itemsOf(store, ticket.id)).at(-1)!;
    expect(update).to.deep.include({ id: `${ticket.id}:desk:card:r${t.rev}`, op: 'update' });
    expect((await sentCardDataOf(desk, update)).problems).to.deep.equal([{ text: `Could not deliver to ${ALEX_CHAT.id}: HTTP 403` }]);
  });

  it('records but does not tell the desk about a message the desk itself could not receive', async () => {
    const { store, report, desk } = await setup();
    const ticket = (await report())!;
    const [card] = await itemsOf(store, ticket.id);
    const ops = await desk.onPermanentFailure(card!, new DeliveryError('HTTP 403', { status: 403, permanent: true }));
    expect(ops.map((op) => op.collection)).to.deep.equal([COLLECTIONS.tickets]);
  });

  async function withOutbox(fail: string) {
    const h = await setup();
    const timers = new ManualTimers(h.clock);
    const notifier = new RecordingNotifier(h.clock).failConversation(fail, permanent(403));
    const outbox = new Outbox({
      store: h.store,
      notifier,
      clock: h.clock,
      timers,
      logger: silentLogger,
      random: () => 0.5,
      onPermanentFailure: (item, error) => h.desk.onPermanentFailure(item, error),
      render: (payload) => h.desk.render(payload),
    });
    h.desk.setHooks({ wakeOutbox: (ids) => outbox.wake(ids), deadlinesChanged: () => undefined });
    await outbox.start();
    return { ...h, outbox, timers, notifier };
  }

  it('shows the desk a reporter conversation the bot was removed from (real outbox)', async () => {
    const h = await withOutbox(ALEX_CHAT.id);
    const ticket = (await h.report())!;
    await drain(h.outbox, h.timers);
    await h.act(PATTI, 'desk.acknowledge', ticket.id);
    await drain(h.outbox, h.timers);
    const t = await ticketOf(h.store, ticket.id);
    const deskCard = (await itemsOf(h.store, ticket.id)).find((i) => i.id === `${ticket.id}:desk:card`)!;
    expect(deskCard.sentActivityId).to.be.a('string');
    expect(t.deliveryProblems.map((p) => [p.conversationId, p.message])).to.deep.equal([[ALEX_CHAT.id, 'HTTP 403']]);
    const items = await itemsOf(h.store, ticket.id);
    expect(items.filter((i) => i.status === 'failed').map((i) => i.id)).to.deep.equal([`${ticket.id}:ack:reporter`]);
    const lastDeskUpdate = h.notifier.sent.filter((i) => i.op === 'update').at(-1)!;
    expect(lastDeskUpdate.target.activityId).to.equal(deskCard.sentActivityId);
    expect(cardDataOf(lastDeskUpdate).problems).to.have.length(1);
  });

  it('does not loop when the desk channel itself is unreachable', async () => {
    const h = await withOutbox(DESK_CHANNEL);
    const ticket = (await h.report())!;
    await h.act(PATTI, 'desk.acknowledge', ticket.id);
    await drain(h.outbox, h.timers);
    const items = await itemsOf(h.store, ticket.id);
    // card post, its update and the reporter news: nothing more was enqueued by the failures (the
    // update's revision depends on whether the post failed before the acknowledgement or after)
    expect(items.map((i) => [i.id.replace(ticket.id, 'T').replace(/:r\d+$/, ':r#'), i.status])).to.deep.equal([
      ['T:desk:card', 'failed'],
      ['T:desk:card:r#', 'failed'],
      ['T:ack:reporter', 'sent'],
    ]);
    const t = await ticketOf(h.store, ticket.id);
    expect(t.deliveryProblems.map((p) => p.conversationId)).to.deep.equal([DESK_CHANNEL, DESK_CHANNEL]);
    expect(h.notifier.calls.filter((c) => c.item.conversationId === DESK_CHANNEL)).to.have.length(1); // the update was never sent
    h.timers.advance(10 * 60_000);
    await h.outbox.idle();
    expect(await h.store.count(OUTBOX_COLLECTION)).to.equal(3);
    expect(h.outbox.pendingCount).to.equal(0);
    await h.outbox.stop();
  });
});

describe('DeskService: status and my tickets', () => {
  const MEGAN = demoUser('megan'); // a member of the project (prospect role)
  const ADELE = demoUser('adele'); // same tenant, not a member of the project
  const rows: { name: string; user: UserContext; sees: boolean }[] = [
    { name: 'the reporter', user: ALEX, sees: true },
    { name: 'a member of the project', user: MEGAN, sees: true },
    { name: 'a desk member (Microsoft tenant)', user: LYNNE, sees: true },
    { name: 'a user of the same tenant outside the project', user: ADELE, sees: false },
    { name: 'a user of another tenant', user: FABRIKAM_OWNER, sees: false },
    { name: 'a project member’s id from another tenant', user: { ...MEGAN, tenantId: FABRIKAM_OWNER.tenantId }, sees: false },
  ];
  for (const row of rows)
    it(`${row.sees ? 'shows' : 'refuses'} "status" to ${row.name}`, async () => {
      const { report, desk } = await setup();
      const ticket = (await report())!;
      const view = await desk.status(row.user, ticket.id.toLowerCase());
      if (row.sees) {
        expect(view.card).to.equal('ticketStatus');
        expect(view.data.headline).to.equal(`${ticket.id}: Nobody can sign in`);
        expect(view.data.timeline).to.deep.equal([{ when: '10:00 AM EST', who: 'Alex Wilber', text: 'Outage reported (severity A).' }]);
      } else {
        expect(view).to.deep.equal({
          card: 'message',
          data: { title: 'Ticket not found', text: `I can't find ${ticket.id} among the tickets you can see. Type “my tickets” for yours.`, notice: '', phones: [] },
        });
      }
    });

  it('lists only the user’s tickets of their tenant, newest first', async () => {
    const { store, report, desk, clock } = await setup();
    const first = (await report(ALEX, ALEX_CHAT, { title: 'First outage' }))!;
    clock.set(minutes(60));
    const other = (await report(FABRIKAM_OWNER, { id: 'a:fabrikam', kind: 'personal' }))!;
    clock.set(minutes(120));
    const second = (await report(ALEX, { id: 'a:alex-group', kind: 'groupChat' }, { title: 'Second outage' }))!;
    // The same user id in another tenant's ticket (ids are per tenant): never listed.
    const foreign: Ticket = { ...second, id: 'OUT-900001', tenantId: FABRIKAM_OWNER.tenantId, submittedAt: minutes(180).toISOString() };
    await store.write([{ op: 'put', collection: COLLECTIONS.tickets, id: foreign.id, value: foreign }]);

    const mine = await desk.myTickets(ALEX);
    expect(mine.card).to.equal('ticketList');
    expect((mine.data.tickets as { ticketId: string }[]).map((t) => t.ticketId)).to.deep.equal([second.id, first.id]);
    const theirs = await desk.myTickets(FABRIKAM_OWNER);
    expect((theirs.data.tickets as { ticketId: string }[]).map((t) => t.ticketId)).to.deep.equal([other.id]);
    const none = await desk.myTickets(demoUser('megan'));
    expect(none.data).to.deep.include({ empty: true, tickets: [] });
  });
});

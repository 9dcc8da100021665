// The whole desk loop over real HTTP (issue 3 "done when"): report -> desk card -> Acknowledge ->
// the reporter sees the minutes against the target -> a status update is relayed -> Resolve, with
// the real Outbox delivering to a local Bot-Connector-like server. Time is manual (the server, the
// outbox and the SLA scheduler share one clock), so retries and deadlines cost no real waiting.

import { expect } from 'chai';
import type { DeskAction } from '../../src/desk/deskActions.js';
import type { Ticket } from '../../src/domain/ticket.js';
import type { ConversationContext, UserContext } from '../../src/domain/user.js';
import { silentLogger } from '../../src/logger.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { compareSeq, OUTBOX_COLLECTION, type OutboxItem } from '../../src/outbox/outboxItem.js';
import { ManualTimers } from '../../src/outbox/timers.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { DeadlineScheduler } from '../../src/sla/deadlines.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { ManualClock } from '../../src/time.js';
import { ConnectorServer, type ConnectorRequest } from '../outbox/connectorServer.js';
import { drain } from '../outbox/drive.js';
import { HttpNotifier } from '../outbox/httpNotifier.js';
import {
  ALEX,
  ALL_INDEXES,
  DESK_CHANNEL,
  deskDirectory,
  FABRIKAM_OWNER,
  itemsOf,
  LINKED_CHANNEL,
  LYNNE,
  PATTI,
  reportOutage,
  schedulerTimers,
  ticketOf,
  wireLoop,
} from './deskHarness.js';

const T0 = new Date('2026-11-23T15:00:00Z');

async function harness(options: { linkedChannel?: boolean } = {}) {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const server = await ConnectorServer.start({ clock });
  const store = new MemoryStore({ indexes: ALL_INDEXES });
  const loop = wireLoop({ store, directory: deskDirectory({ linkedChannel: options.linkedChannel }), clock });
  const outbox = new Outbox({
    store,
    clock,
    timers,
    logger: silentLogger,
    random: () => 0.5,
    notifier: new HttpNotifier(server.url, clock),
    onPermanentFailure: (item, error) => loop.desk.onPermanentFailure(item, error),
    render: (payload) => loop.desk.render(payload),
  });
  const scheduler = new DeadlineScheduler({
    store,
    clock,
    logger: silentLogger,
    timers: schedulerTimers(timers),
    handle: (d) => loop.desk.onDeadline(d),
  });
  loop.desk.setHooks({ wakeOutbox: (ids) => outbox.wake(ids), deadlinesChanged: (id, pending) => scheduler.track(id, pending) });
  await outbox.start();
  await scheduler.start();
  const h = {
    clock,
    timers,
    server,
    store,
    loop,
    outbox,
    report: (user: UserContext, conversation: ConversationContext) => reportOutage(store, loop.outage, user, conversation),
    async act(user: UserContext, verb: DeskAction['verb'], ticketId: string, data: Record<string, unknown> = {}) {
      const { rev } = await ticketOf(store, ticketId);
      const view = await loop.desk.act(user, { verb, data: { ticketId, rev, ...data } } as DeskAction);
      expect(view.data.notice, verb).to.equal('');
    },
    /** Lets `ms` pass: due timers fire, deliveries in flight finish. */
    async wait(ms: number) {
      // Sends in flight finish first: jumping past the send timeout mid-request would (rightly)
      // count it as lost and send it again.
      await outbox.idle();
      timers.advance(ms);
      await outbox.idle();
      await scheduler.tick();
      await outbox.idle();
    },
    /** Delivers everything pending (retries included) on manual time. */
    async deliver() {
      await drain(outbox, timers);
    },
    async close() {
      await scheduler.stop();
      await outbox.stop();
      await server.close();
    },
  };
  return h;
}

/** What the server accepted for one conversation, in arrival order. */
function deliveredTo(server: ConnectorServer, conversationId: string): ConnectorRequest[] {
  return server.delivered().filter((r) => r.conversationId === conversationId);
}

function cardData(r: ConnectorRequest): Record<string, unknown> {
  const [attachment] = r.body.attachments as { content: { template: string; data: Record<string, unknown> } }[];
  return attachment!.content.data;
}

describe('the desk loop over real HTTP', () => {
  it('report -> desk card -> acknowledge -> update -> resolve reaches the desk and the reporter', async () => {
    const h = await harness();
    try {
      const chat = { id: 'a:alex-personal', kind: 'personal' as const };
      const ticket = (await h.report(ALEX, chat))!;
      await h.deliver();
      const [post] = deliveredTo(h.server, DESK_CHANNEL);
      expect(post).to.deep.include({ kind: 'post', itemId: `${ticket.id}:desk:card` });
      expect(cardData(post!)).to.deep.include({ ticketId: ticket.id, status: 'Waiting for acknowledgement' });
      const cardId = post!.createdId!;
      const stored = (await itemsOf(h.store, ticket.id)).find((i) => i.id === `${ticket.id}:desk:card`);
      expect(stored).to.deep.include({ status: 'sent', sentActivityId: cardId });

      await h.wait(12 * 60_000 - (h.clock.now().getTime() - T0.getTime()));
      await h.act(PATTI, 'desk.acknowledge', ticket.id);
      await h.deliver();
      const [ackUpdate] = deliveredTo(h.server, DESK_CHANNEL).slice(1);
      expect(ackUpdate).to.deep.include({ kind: 'update', activityId: cardId, itemId: `${ticket.id}:desk:card:r1` });
      expect(cardData(ackUpdate!)).to.deep.include({ status: 'Acknowledged, in progress', canAcknowledge: false });
      expect(cardData(ackUpdate!).sla).to.match(/^Acknowledgement met: 12 minutes after submission/);
      const [ack] = deliveredTo(h.server, chat.id);
      expect(ack).to.deep.include({ kind: 'post', itemId: `${ticket.id}:ack:reporter` });
      expect(cardData(ack!).title).to.equal(`${ticket.id} acknowledged by Patti Fernandez`);
      expect(cardData(ack!).text).to.match(/acknowledged your outage “Nobody can sign in” 12 minutes after submission, within the 30 minutes target/);

      await h.wait(8 * 60_000);
      await h.act(PATTI, 'desk.update', ticket.id, { updateText: 'Failover to the secondary region started.' });
      await h.wait(30 * 60_000);
      await h.act(LYNNE, 'desk.resolve', ticket.id, { resolution: 'Certificate renewed; sign-in works again.' });
      await h.deliver();

      const desk = deliveredTo(h.server, DESK_CHANNEL);
      expect(desk.map((r) => [r.kind, r.itemId])).to.deep.equal([
        ['post', `${ticket.id}:desk:card`],
        ['update', `${ticket.id}:desk:card:r1`],
        ['update', `${ticket.id}:desk:card:r2`],
        ['update', `${ticket.id}:desk:card:r3`],
      ]);
      for (const u of desk.slice(1)) expect(u.activityId).to.equal(cardId); // edits the one card
      expect(cardData(desk.at(-1)!)).to.deep.include({ status: 'Resolved', resolution: 'Certificate renewed; sign-in works again.' });
      const reporter = deliveredTo(h.server, chat.id);
      expect(reporter.map((r) => cardData(r).text)).to.deep.equal([
        cardData(ack!).text,
        'Failover to the secondary region started.',
        `Lynne Robbins resolved your outage “Nobody can sign in”. Resolution: Certificate renewed; sign-in works again. If it is not solved, tell us here and the desk can reopen it.`,
      ]);
      // acknowledged in time: the SLA clock never warned or escalated
      const t = await ticketOf(h.store, ticket.id);
      expect(t.sla.warnedAt).to.equal(undefined);
      expect(t.sla.escalatedAt).to.equal(undefined);
      expect(h.server.requests.every((r) => r.status < 300)).to.equal(true);
    } finally {
      await h.close();
    }
  });

  it('escalates an unacknowledged ticket once, in the card’s thread, and tells the reporter', async () => {
    const h = await harness();
    try {
      const chat = { id: 'a:alex-personal', kind: 'personal' as const };
      const ticket = (await h.report(ALEX, chat))!;
      for (let i = 0; i < 45; i++) await h.wait(60_000);
      await h.deliver();
      const desk = deliveredTo(h.server, DESK_CHANNEL);
      const cardId = desk[0]!.createdId!;
      expect(desk.map((r) => [r.kind, r.itemId, r.activityId])).to.deep.equal([
        ['post', `${ticket.id}:desk:card`, undefined],
        ['reply', `${ticket.id}:desk:warn`, cardId],
        ['update', `${ticket.id}:desk:card:r1`, cardId],
        ['reply', `${ticket.id}:desk:escalate`, cardId],
        ['update', `${ticket.id}:desk:card:r2`, cardId],
      ]);
      expect(desk[3]!.body.text).to.match(/^🚨 ESCALATION: .* <at>Nestor Wilke<\/at> <at>Grady Archie<\/at>$/);
      expect(desk[3]!.at).to.equal(T0.getTime() + 30 * 60_000);
      expect(deliveredTo(h.server, chat.id).map((r) => r.itemId)).to.deep.equal([`${ticket.id}:escalated:reporter`]);
    } finally {
      await h.close();
    }
  });

  for (const seed of [20261123, 7, 42])
    it(`delivers every message exactly once and in order per conversation with 30% of calls failing (seed ${seed})`, async () => {
      const h = await harness({ linkedChannel: true });
      h.server.failRandomly(0.3, [{ status: 429, retryAfter: '1' }, { status: 500 }], seed);
      try {
        const reports: [UserContext, ConversationContext][] = [
          [ALEX, { id: 'a:alex-personal', kind: 'personal' }],
          [FABRIKAM_OWNER, { id: 'a:fabrikam-owner', kind: 'personal' }],
          [ALEX, { id: '19:alex-group@thread.v2', kind: 'groupChat' }],
          [ALEX, { id: '19:contoso-general@thread.tacv2;messageid=1711111111111', kind: 'channel' }],
          [FABRIKAM_OWNER, { id: '19:fabrikam-ops@thread.tacv2;messageid=1722222222222', kind: 'channel' }],
        ];
        const tickets: Ticket[] = [];
        for (const [user, conversation] of reports) {
          tickets.push((await h.report(user, conversation))!);
          await h.wait(20_000); // deliveries run between the actions, failing and retrying
        }
        const engineers = [PATTI, LYNNE];
        for (const [i, t] of tickets.entries()) {
          await h.act(engineers[i % 2]!, 'desk.acknowledge', t.id);
          await h.wait(7_000);
        }
        for (const n of [1, 2])
          for (const [i, t] of tickets.entries()) {
            await h.act(engineers[(i + n) % 2]!, 'desk.update', t.id, { updateText: `Update ${n} on ${t.id}.` });
            await h.wait(3_000);
          }
        for (const t of tickets) {
          await h.act(PATTI, 'desk.resolve', t.id, { resolution: `Fixed ${t.id}.` });
          await h.wait(1_000);
        }
        await h.deliver();

        const failed = h.server.requests.filter((r) => r.status >= 400);
        expect(failed.length / h.server.requests.length).to.be.within(0.15, 0.45);
        expect(new Set(failed.map((r) => r.status))).to.deep.equal(new Set([429, 500]));

        const all: OutboxItem[] = [];
        for (const t of tickets) all.push(...(await h.store.find<OutboxItem>(OUTBOX_COLLECTION, 'ticket', t.id)).map((d) => d.value));
        expect(all.filter((i) => i.status !== 'sent').map((i) => `${i.id} ${i.status} ${i.lastError}`)).to.deep.equal([]);
        const delivered = h.server.delivered();
        expect(delivered.map((r) => r.itemId).sort()).to.deep.equal(all.map((i) => i.id).sort()); // exactly once each

        const conversations = new Set(all.map((i) => i.conversationId));
        expect(conversations).to.include.members([DESK_CHANNEL, LINKED_CHANNEL, ...reports.map(([, c]) => c.id)]);
        for (const conversation of conversations) {
          const expected = all.filter((i) => i.conversationId === conversation).sort(compareSeq).map((i) => i.id);
          expect(deliveredTo(h.server, conversation).map((r) => r.itemId), conversation).to.deep.equal(expected);
        }
        // each reporter heard: acknowledged, two updates, resolved, in that order
        for (const [i, t] of tickets.entries()) {
          const texts = deliveredTo(h.server, reports[i]![1].id).map((r) => String(cardData(r).text));
          expect(texts.map((x) => x.replace(/.*(acknowledged|resolved) your.*/s, '$1'))).to.deep.equal([
            'acknowledged',
            `Update 1 on ${t.id}.`,
            `Update 2 on ${t.id}.`,
            'resolved',
          ]);
        }
        // every desk-card update edited the card its post created
        const cardOf = new Map(delivered.filter((r) => r.itemId?.endsWith(':desk:card')).map((r) => [r.itemId!, r.createdId!]));
        for (const r of deliveredTo(h.server, DESK_CHANNEL).filter((x) => x.kind === 'update'))
          expect(r.activityId, r.itemId).to.equal(cardOf.get(r.itemId!.replace(/:r\d+$/, '')));
        for (const t of tickets) expect((await ticketOf(h.store, t.id)).deliveryProblems).to.deep.equal([]);
        expect(await h.store.count(COLLECTIONS.tickets)).to.equal(tickets.length);
      } finally {
        await h.close();
      }
    });
});

import { expect } from 'chai';
import { silentLogger } from '../../src/logger.js';
import { DeliveryError } from '../../src/outbox/notifier.js';
import { Outbox, type OutboxDeps } from '../../src/outbox/outbox.js';
import {
  enqueuedDocs,
  enqueuedIds,
  enqueueOps,
  newOutboxItem,
  OUTBOX_COLLECTION,
  OUTBOX_INDEXES,
  type OutboxItem,
  type OutboxItemInput,
} from '../../src/outbox/outboxItem.js';
import { SlidingWindowLimiter } from '../../src/outbox/rateLimit.js';
import { ManualTimers } from '../../src/outbox/timers.js';
import { FaultyStore } from '../../src/store/faultyStore.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { ConflictError, type Store, type WriteOp } from '../../src/store/store.js';
import { ManualClock } from '../../src/time.js';
import { drain } from './drive.js';
import { permanent, RecordingNotifier, transient } from './recordingNotifier.js';

interface Ticket {
  id: string;
  timeline: string[];
  deskActivityId?: string;
}

function setup(extra: Partial<OutboxDeps> = {}) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const faulty = new FaultyStore(new MemoryStore({ indexes: OUTBOX_INDEXES }));
  const notifier = new RecordingNotifier(clock);
  /** Another outbox over the same store, notifier and clock (a hook, a policy, a restart). */
  const outboxWith = (deps: Partial<OutboxDeps>) =>
    new Outbox({ store: faulty, notifier, clock, timers, logger: silentLogger, ...deps });
  const outbox = outboxWith({ random: () => 0.5, ...extra });
  const make = (
    id: string,
    conversationId: string,
    more: Partial<OutboxItemInput> = {},
  ): OutboxItem =>
    newOutboxItem(
      { id, op: 'post', target: { conversationId }, payload: { kind: 'text', text: id }, ...more },
      clock.now(),
    );
  const stored = async (id: string) => (await faulty.get<OutboxItem>(OUTBOX_COLLECTION, id))!.value;
  const f = {
    clock,
    timers,
    store: faulty as Store,
    faulty,
    notifier,
    outbox,
    outboxWith,
    make,
    stored,
    /** Writes the items and wakes whichever outbox the test uses now. */
    enqueue: async (...items: OutboxItem[]) => {
      await faulty.write(enqueueOps(items));
      f.outbox.wake();
    },
  };
  return f;
}

/** A hook that appends to the ticket's timeline with ifMatch, as the desk flow would. */
function timelineHook(store: Store, text: (item: OutboxItem, detail: string) => string) {
  return async (item: OutboxItem, detail: string): Promise<WriteOp[]> => {
    const t = await store.get<Ticket>('tickets', item.ticketId!);
    const value = { ...t!.value, timeline: [...t!.value.timeline, text(item, detail)] };
    return [{ op: 'put', collection: 'tickets', id: t!.id, value, ifMatch: t!.eTag }];
  };
}

describe('Outbox', () => {
  it('delivers an item once and marks it sent with the activity id', async () => {
    const f = setup();
    await f.outbox.start();
    await f.enqueue(f.make('a', 'c1'));
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls.map((c) => c.item.id)).to.deep.equal(['a']);
    expect(await f.stored('a')).to.include({
      status: 'sent',
      sentActivityId: 'act-1',
      attempts: 1,
    });
    expect(await f.store.find(OUTBOX_COLLECTION, 'pending', 'pending')).to.have.length(0);
    await f.outbox.stop();
  });

  it('reads only the items a wake names, not the whole backlog, and still delivers in order', async () => {
    const f = setup();
    let listings = 0;
    const store = Object.assign(Object.create(f.faulty) as Store, {
      findETags: (c: string, i: string, k: string) => {
        listings += 1;
        return f.faulty.findETags(c, i, k);
      },
    });
    const outbox = f.outboxWith({ store, random: () => 0.5 });
    await outbox.start();
    const atStart = listings;
    const ops = enqueueOps([f.make('a', 'c1'), f.make('b', 'c1'), f.make('c', 'c2')]);
    await f.store.write(ops);
    outbox.wake(enqueuedIds(ops));
    await outbox.idle();
    expect(listings, 'pending listings after start').to.equal(atStart);
    await drain(outbox, f.timers);
    const sent = f.notifier.sent.map((i) => i.id);
    expect([...sent].sort()).to.deep.equal(['a', 'b', 'c']);
    expect(sent.indexOf('a')).to.be.below(sent.indexOf('b'));

    // A named item that someone else settled meanwhile is left alone.
    await f.store.write(enqueueOps([f.make('d', 'c3')]));
    const d = (await f.store.get<OutboxItem>(OUTBOX_COLLECTION, 'd'))!;
    await f.store.write([
      {
        op: 'put',
        collection: OUTBOX_COLLECTION,
        id: 'd',
        value: { ...d.value, status: 'sent' },
        ifMatch: d.eTag,
      },
    ]);
    outbox.wake(['d', 'never-written']);
    await drain(outbox, f.timers);
    expect(f.notifier.sent.map((i) => i.id)).to.not.include('d');
    expect(outbox.pendingCount).to.equal(0);
    await outbox.stop();
  });

  it('takes items handed over as written without reading them, and leaves one it has settled since', async () => {
    const f = setup();
    let reads = 0;
    const store = Object.assign(Object.create(f.faulty) as Store, {
      get: <T>(c: string, id: string) => {
        reads += 1;
        return f.faulty.get<T>(c, id);
      },
    });
    const outbox = f.outboxWith({ store, random: () => 0.5 });
    await outbox.start();
    const ops: WriteOp[] = [
      { op: 'put', collection: 'tickets', id: 'T1', value: { id: 'T1' } },
      ...enqueueOps([f.make('a', 'c1'), f.make('b', 'c1'), f.make('c', 'c2')]),
    ];
    const eTags = await f.store.write(ops);
    const docs = enqueuedDocs(ops, eTags);
    expect(docs.map((d) => d.id)).to.deep.equal(['a', 'b', 'c']);
    expect(docs.map((d) => d.eTag)).to.deep.equal(eTags.slice(1));
    const before = reads;
    outbox.wake(docs);
    await drain(outbox, f.timers);
    expect(reads, 'reads of handed items').to.equal(before);
    const sent = f.notifier.sent.map((i) => i.id);
    expect([...sent].sort()).to.deep.equal(['a', 'b', 'c']);
    expect(sent.indexOf('a')).to.be.below(sent.indexOf('b'));
    expect((await f.store.get<OutboxItem>(OUTBOX_COLLECTION, 'a'))?.value.status).to.equal('sent');

    // Handed over again (a repeated wake) after it was delivered: not sent twice.
    outbox.wake(docs);
    await drain(outbox, f.timers);
    expect(f.notifier.sent.map((i) => i.id).filter((id) => id === 'a')).to.have.length(1);
    await outbox.stop();
  });

  it('is written with the state change that causes it, or not at all', async () => {
    const f = setup();
    await f.outbox.start();
    const [tEtag] = await f.store.write([
      { op: 'put', collection: 'tickets', id: 'T1', value: { id: 'T1', timeline: [] } },
    ]);
    const ack = (by: string) => [
      {
        op: 'put' as const,
        collection: 'tickets',
        id: 'T1',
        value: { id: 'T1', timeline: [`ack by ${by}`] },
        ifMatch: tEtag,
      },
      ...enqueueOps([f.make('T1:ack:reporter', 'reporter', { ticketId: 'T1' })]),
    ];
    await f.store.write(ack('Megan'));
    f.outbox.wake();
    // The second engineer's click read the same ticket: its batch is refused whole, message included.
    let conflict: unknown;
    await f.store.write(ack('Alex')).catch((e: unknown) => (conflict = e));
    expect(conflict).to.be.instanceOf(ConflictError);
    await drain(f.outbox, f.timers);
    expect(f.notifier.sent.map((i) => i.id)).to.deep.equal(['T1:ack:reporter']);
    await f.outbox.stop();
  });

  it('makes one item of an event enqueued twice', async () => {
    const f = setup();
    await f.outbox.start();
    await f.enqueue(f.make('T1:update:1', 'c1'));
    let conflict: unknown;
    await f.enqueue(f.make('T1:update:1', 'c1')).catch((e: unknown) => (conflict = e));
    expect(conflict).to.be.instanceOf(ConflictError);
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls).to.have.length(1);
    await f.outbox.stop();
  });

  it('sends one item of a conversation at a time, in enqueue order', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.holdNext();
    await f.enqueue(f.make('1', 'c1'), f.make('2', 'c1'), f.make('x', 'c2'));
    await new Promise((r) => setTimeout(r, 20));
    // '1' is in flight: '2' waits for it, c2 does not.
    expect(f.notifier.calls.map((c) => c.item.id)).to.have.members(['1', 'x']);
    f.notifier.release();
    await drain(f.outbox, f.timers);
    expect(f.notifier.sent.filter((i) => i.conversationId === 'c1').map((i) => i.id)).to.deep.equal(
      ['1', '2'],
    );
    await f.outbox.stop();
  });

  it('retries a transient failure with growing backoff, recording attempts while pending', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.failNext(transient(500), transient(503));
    const t0 = f.clock.now().getTime();
    await f.enqueue(f.make('a', 'c1'));
    await f.outbox.idle();
    expect(await f.stored('a')).to.include({
      status: 'pending',
      attempts: 1,
      lastError: 'HTTP 500',
    });
    await drain(f.outbox, f.timers);
    // random 0.5: 375 ms after attempt 1, 750 ms after attempt 2.
    expect(f.notifier.calls.map((c) => c.at - t0)).to.deep.equal([0, 375, 1_125]);
    expect(await f.stored('a')).to.include({ status: 'sent', attempts: 3 });
    await f.outbox.stop();
  });

  it('waits exactly Retry-After, and meanwhile holds that conversation but no other', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.failNext(transient(429, 2_000));
    const t0 = f.clock.now().getTime();
    await f.enqueue(f.make('1', 'c1'), f.make('2', 'c1'));
    await f.outbox.idle();
    await f.enqueue(f.make('x', 'c2'));
    await f.outbox.idle();
    expect(f.notifier.calls.map((c) => c.item.id)).to.deep.equal(['1', 'x']);
    f.timers.advance(1_999);
    await f.outbox.idle();
    expect(f.notifier.calls).to.have.length(2);
    f.timers.advance(1);
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls.map((c) => [c.item.id, c.at - t0])).to.deep.equal([
      ['1', 0],
      ['x', 0],
      ['1', 2_000],
      ['2', 2_000],
    ]);
    await f.outbox.stop();
  });

  it('puts an item that is enqueued late ahead of the later ones it was created before', async () => {
    const f = setup();
    await f.outbox.start();
    const early = f.make('early', 'c1');
    const late = f.make('late', 'c1');
    f.notifier.failNext(transient(429, 2_000));
    const t0 = f.clock.now().getTime();
    await f.enqueue(late);
    await f.outbox.idle();
    await f.enqueue(early); // e.g. a slower turn's write
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls.map((c) => [c.item.id, c.at - t0, c.ok])).to.deep.equal([
      ['late', 0, false],
      ['early', 0, true],
      ['late', 2_000, true],
    ]);
    await f.outbox.stop();
  });

  it('records a permanent failure with the hook writes, then delivers the next item', async () => {
    const f = setup();
    const hook = timelineHook(f.store, (i, d) => `delivery-failed ${i.id}: ${d}`);
    f.outbox = f.outboxWith({
      onPermanentFailure: (item, err) => hook(item, err.message),
    });
    await f.outbox.start();
    await f.store.write([
      { op: 'put', collection: 'tickets', id: 'T1', value: { id: 'T1', timeline: [] } },
    ]);
    f.notifier.failNext(permanent(403));
    await f.enqueue(f.make('1', 'c1', { ticketId: 'T1' }), f.make('2', 'c1', { ticketId: 'T1' }));
    await drain(f.outbox, f.timers);
    expect(await f.stored('1')).to.include({
      status: 'failed',
      attempts: 1,
      lastError: 'HTTP 403',
    });
    expect(await f.stored('2')).to.include({ status: 'sent' });
    const ticket = await f.store.get<Ticket>('tickets', 'T1');
    expect(ticket!.value.timeline).to.deep.equal(['delivery-failed 1: HTTP 403']);
    expect(
      (await f.store.find(OUTBOX_COLLECTION, 'failed', 'failed')).map((d) => d.id),
    ).to.deep.equal(['1']);
    await f.outbox.stop();
  });

  it('gives up after maxAttempts as a permanent failure', async () => {
    const f = setup();
    const failures: string[] = [];
    f.outbox = f.outboxWith({
      policy: { maxAttempts: 3 },
      onPermanentFailure: (item, err) => (failures.push(`${item.id}: ${err.message}`), []),
    });
    await f.outbox.start();
    f.notifier.failNext(transient(500), transient(500), transient(500));
    await f.enqueue(f.make('a', 'c1'));
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls).to.have.length(3);
    expect(failures).to.deep.equal(['a: gave up after 3 attempts: HTTP 500']);
    expect(await f.stored('a')).to.include({ status: 'failed', attempts: 3 });
    await f.outbox.stop();
  });

  it('records a failure even when the hook throws', async () => {
    const f = setup();
    f.outbox = f.outboxWith({
      onPermanentFailure: () => {
        throw new Error('bug in hook');
      },
    });
    await f.outbox.start();
    f.notifier.failNext(permanent(404));
    await f.enqueue(f.make('a', 'c1'));
    await drain(f.outbox, f.timers);
    expect(await f.stored('a')).to.include({ status: 'failed', lastError: 'HTTP 404' });
    await f.outbox.stop();
  });

  it('writes onSent ops with the sent mark, e.g. the desk card id on the ticket', async () => {
    const f = setup();
    f.outbox = f.outboxWith({
      onSent: async (item, { activityId }) => {
        const t = (await f.store.get<Ticket>('tickets', item.ticketId!))!;
        return [
          {
            op: 'put',
            collection: 'tickets',
            id: t.id,
            value: { ...t.value, deskActivityId: activityId },
            ifMatch: t.eTag,
          },
        ];
      },
    });
    await f.outbox.start();
    await f.store.write([
      { op: 'put', collection: 'tickets', id: 'T1', value: { id: 'T1', timeline: [] } },
    ]);
    await f.enqueue(f.make('T1:desk-card', 'desk', { ticketId: 'T1' }));
    await drain(f.outbox, f.timers);
    expect((await f.store.get<Ticket>('tickets', 'T1'))!.value.deskActivityId).to.equal('act-1');
    await f.outbox.stop();
  });

  it('runs the onSent hook again when its write is stale', async () => {
    const f = setup();
    let calls = 0;
    f.outbox = f.outboxWith({
      onSent: async (item, { activityId }) => {
        const t = (await f.store.get<Ticket>('tickets', item.ticketId!))!;
        // Someone acknowledges the ticket between the hook's read and the outbox's write, once.
        if (calls++ === 0)
          await f.store.write([
            {
              op: 'put',
              collection: 'tickets',
              id: t.id,
              value: { ...t.value, timeline: ['ack'] },
            },
          ]);
        return [
          {
            op: 'put',
            collection: 'tickets',
            id: t.id,
            value: { ...t.value, deskActivityId: activityId },
            ifMatch: t.eTag,
          },
        ];
      },
    });
    await f.outbox.start();
    await f.store.write([
      { op: 'put', collection: 'tickets', id: 'T1', value: { id: 'T1', timeline: [] } },
    ]);
    await f.enqueue(f.make('T1:desk-card', 'desk', { ticketId: 'T1' }));
    await drain(f.outbox, f.timers);
    expect(calls).to.equal(2);
    expect(f.notifier.calls).to.have.length(1);
    expect((await f.store.get<Ticket>('tickets', 'T1'))!.value).to.deep.include({
      timeline: ['ack'],
      deskActivityId: 'act-1',
    });
    await f.outbox.stop();
  });

  it('replies in and updates a message enqueued before its activity id was known', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.failNext(transient(500));
    await f.enqueue(
      f.make('card', 'desk'),
      f.make('reply', 'desk', {
        op: 'reply',
        target: { conversationId: 'desk', threadOf: 'card' },
      }),
      f.make('update', 'desk', {
        op: 'update',
        target: { conversationId: 'desk', activityOf: 'card' },
      }),
    );
    await drain(f.outbox, f.timers);
    const [, card, reply, update] = f.notifier.calls;
    expect(card!.item.id).to.equal('card');
    expect(reply!.item.target.threadId).to.equal('act-1');
    expect(update!.item.target.activityId).to.equal('act-1');
    await f.outbox.stop();
  });

  it('stores a delivered item without its payload, and later items still thread on and update it', async () => {
    const f = setup();
    const hooked: OutboxItem[] = [];
    f.outbox = f.outboxWith({
      onSent: (item) => (hooked.push(item), []),
    });
    await f.outbox.start();
    const card = f.make('T1:desk:card', 'desk', {
      ticketId: 'T1',
      payload: { kind: 'card', card: 'deskTicket', data: { rev: 1, title: 'Outage' } },
    });
    f.notifier.failConversation('gone', permanent(403));
    await f.enqueue(f.make('lost', 'gone'), card);
    await drain(f.outbox, f.timers);
    const sent = await f.stored(card.id);
    expect(sent).to.not.have.property('payload');
    expect(sent).to.deep.include({
      id: card.id,
      conversationId: 'desk',
      seq: card.seq,
      op: 'post',
      target: { conversationId: 'desk' },
      ticketId: 'T1',
      status: 'sent',
      attempts: 1,
      sentActivityId: 'act-1',
      createdAt: card.createdAt,
    });
    expect(sent.sentAt).to.be.a('string');
    expect(hooked[0]!.payload, 'the hook sees the item whole').to.deep.equal(card.payload);
    // A failed item keeps its payload: it is shown and inspected.
    expect(await f.stored('lost')).to.deep.include({
      status: 'failed',
      payload: { kind: 'text', text: 'lost' },
    });

    // Enqueued after the card was compacted: resolved through its stored sentActivityId.
    await f.enqueue(
      f.make('T1:reply', 'desk', {
        op: 'reply',
        target: { conversationId: 'desk', threadOf: card.id },
      }),
      f.make('T1:update', 'desk', {
        op: 'update',
        target: { conversationId: 'desk', activityOf: card.id },
      }),
    );
    await drain(f.outbox, f.timers);
    const [reply, update] = f.notifier.calls.slice(-2).map((c) => c.item);
    expect(reply!.target.threadId).to.equal('act-1');
    expect(update!.target.activityId).to.equal('act-1');
    expect(reply!.payload, 'a pending item is sent with its payload').to.deep.equal({
      kind: 'text',
      text: 'T1:reply',
    });
    for (const id of ['T1:reply', 'T1:update'])
      expect(await f.stored(id))
        .to.include({ status: 'sent' })
        .and.not.have.property('payload');
    await f.outbox.stop();
  });

  it('sends an item waiting for a message in another conversation as soon as that one is sent', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.failNext(transient(500));
    const t0 = f.clock.now().getTime();
    await f.enqueue(
      f.make('card', 'desk'),
      f.make('reply', 'other', {
        op: 'reply',
        target: { conversationId: 'other', threadOf: 'card' },
      }),
    );
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls.map((c) => [c.item.id, c.at - t0, c.ok])).to.deep.equal([
      ['card', 0, false],
      ['card', 375, true],
      ['reply', 375, true],
    ]);
    expect(f.notifier.calls[2]!.item.target.threadId).to.equal('act-1');
    await f.outbox.stop();
  });

  it('sends an item waiting for a message that someone else marked sent', async () => {
    const f = setup({ policy: { pollIntervalMs: 3_600_000 } });
    await f.outbox.start();
    f.notifier.failConversation('desk', transient(429, 600_000));
    await f.enqueue(
      f.make('card', 'desk'),
      f.make('reply', 'other', {
        op: 'reply',
        target: { conversationId: 'other', threadOf: 'card' },
      }),
    );
    await f.outbox.idle();
    expect(f.notifier.calls.map((c) => c.item.id)).to.deep.equal(['card']);
    // E.g. another instance delivered it: this one drops it at the next refresh.
    const card = (await f.store.get<OutboxItem>(OUTBOX_COLLECTION, 'card'))!;
    const { payload: _payload, ...compact } = card.value;
    await f.store.write([
      {
        op: 'put',
        collection: OUTBOX_COLLECTION,
        id: 'card',
        value: { ...compact, status: 'sent', sentActivityId: 'elsewhere-1' },
        ifMatch: card.eTag,
      },
    ]);
    f.outbox.wake();
    await f.outbox.idle();
    expect(f.notifier.calls.map((c) => [c.item.id, c.item.target.threadId])).to.deep.equal([
      ['card', undefined],
      ['reply', 'elsewhere-1'],
    ]);
    expect(f.outbox.pendingCount).to.equal(0);
    await f.outbox.stop();
  });

  it('starts the oldest head first when send slots are scarce', async () => {
    const f = setup({ policy: { maxConcurrentSends: 1 } });
    await f.outbox.start();
    const [x, y, z] = [f.make('x', 'c1'), f.make('y', 'c2'), f.make('z', 'c3')];
    for (const item of [z, x, y]) await f.store.write(enqueueOps([item]));
    f.outbox.wake();
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls.map((c) => c.item.id)).to.deep.equal(['x', 'y', 'z']);
    await f.outbox.stop();
  });

  it('does the same work per send however many conversations wait on a retry or a thread', async () => {
    // Counted, not timed: how often the rate limit is asked while one conversation sends 20 items.
    const limiterCalls = async (waiting: number): Promise<number> => {
      const f = setup({ policy: { pollIntervalMs: 3_600_000 } });
      const freeAt = SlidingWindowLimiter.prototype.freeAt;
      let calls = 0;
      SlidingWindowLimiter.prototype.freeAt = function (key: string, now: number) {
        calls += 1;
        return freeAt.call(this, key, now);
      };
      try {
        await f.outbox.start();
        // Half wait 10 minutes after a 429; half wait for the desk card, which is one of those.
        f.notifier.failConversation('desk', transient(429, 600_000));
        const idle = [f.make('card', 'desk')];
        for (let n = 0; n < waiting / 2; n++) {
          f.notifier.failConversation(`throttled-${n}`, transient(429, 600_000));
          idle.push(f.make(`throttled-${n}`, `throttled-${n}`));
          idle.push(
            f.make(`reply-${n}`, `thread-${n}`, {
              op: 'reply',
              target: { conversationId: `thread-${n}`, threadOf: 'card' },
            }),
          );
        }
        const ops = enqueueOps(idle);
        await f.store.write(ops);
        f.outbox.wake(enqueuedIds(ops));
        await f.outbox.idle();
        expect(f.outbox.pendingCount).to.equal(waiting + 1);

        calls = 0;
        const busy = enqueueOps(Array.from({ length: 20 }, (_, n) => f.make(`busy-${n}`, 'busy')));
        await f.store.write(busy);
        f.outbox.wake(enqueuedIds(busy));
        // 7 per second: the rest waits for the rate limit's timer.
        for (;;) {
          await f.outbox.idle();
          if (f.notifier.sent.filter((i) => i.conversationId === 'busy').length === 20) break;
          expect(f.timers.runNext(), 'a timer is set').to.equal(true);
        }
        expect(f.outbox.pendingCount).to.equal(waiting + 1);
        await f.outbox.stop();
        return calls;
      } finally {
        SlidingWindowLimiter.prototype.freeAt = freeAt;
      }
    };
    const few = await limiterCalls(4);
    const many = await limiterCalls(400);
    expect(many).to.equal(few);
    expect(few).to.be.at.most(2 * 20); // about once per send, not once per conversation per pump
  });

  it('waits for a referenced message in another conversation, and fails if it never arrives', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.failNext(transient(500), permanent(403));
    await f.enqueue(
      f.make('card', 'desk'),
      f.make('reply', 'other', {
        op: 'reply',
        target: { conversationId: 'other', threadOf: 'card' },
      }),
    );
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls.map((c) => c.item.id)).to.deep.equal(['card', 'card']);
    expect(await f.stored('reply')).to.include({
      status: 'failed',
      lastError: 'referenced message card was never delivered',
    });
    await f.outbox.stop();
  });

  it('does not resend an item whose sent mark the store refused, and holds its conversation until recorded', async () => {
    const f = setup();
    await f.outbox.start();
    await f.faulty.write(enqueueOps([f.make('1', 'c1')]));
    f.faulty.failNextWrites(1); // the "sent" record
    f.outbox.wake();
    await f.outbox.idle();
    expect(await f.stored('1')).to.include({ status: 'pending' });
    await f.enqueue(f.make('2', 'c1'));
    await f.outbox.idle();
    expect(f.notifier.calls.map((c) => c.item.id)).to.deep.equal(['1']);
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls.map((c) => c.item.id)).to.deep.equal(['1', '2']);
    expect(await f.stored('1')).to.include({ status: 'sent', sentActivityId: 'act-1' });
    await f.outbox.stop();
  });

  it('renders a desk card named by its ticket when it sends it, as the ticket is then', async () => {
    let rev = 1;
    const rendered: string[] = [];
    const f = setup({
      render: async (p) => {
        rendered.push(p.ticketId);
        return { kind: 'card', card: 'deskTicket', data: { ticketId: p.ticketId, rev } };
      },
    });
    await f.outbox.start();
    await f.faulty.write(
      enqueueOps([f.make('card', 'desk', { payload: { kind: 'deskCard', ticketId: 'T-1' } })]),
    );
    expect(await f.stored('card')).to.deep.include({ payload: { kind: 'deskCard', ticketId: 'T-1' } });
    rev = 3; // the ticket changes while its card waits
    f.outbox.wake();
    await drain(f.outbox, f.timers);
    expect(rendered).to.deep.equal(['T-1']);
    expect(f.notifier.sent.map((i) => i.payload)).to.deep.equal([
      { kind: 'card', card: 'deskTicket', data: { ticketId: 'T-1', rev: 3 } },
    ]);
    expect(await f.stored('card')).to.include({ status: 'sent', sentActivityId: 'act-1' });
    await f.outbox.stop();
  });

  it('fails a desk card whose ticket is gone, and renders one again when the store could not be read', async () => {
    let failReads = 1;
    const f = setup({
      render: async (p) => {
        if (p.ticketId === 'gone') return undefined;
        if (failReads-- > 0) throw new Error('disk unavailable');
        return { kind: 'card', card: 'deskTicket', data: { ticketId: p.ticketId } };
      },
    });
    await f.outbox.start();
    await f.enqueue(
      f.make('lost', 'c1', { payload: { kind: 'deskCard', ticketId: 'gone' } }),
      f.make('later', 'c2', { payload: { kind: 'deskCard', ticketId: 'T-2' } }),
    );
    await f.outbox.idle();
    expect(await f.stored('lost')).to.deep.include({
      status: 'failed',
      lastError: 'nothing to show for deskCard gone',
    });
    expect(await f.stored('later')).to.include({ status: 'pending', attempts: 0 });
    expect(f.notifier.calls).to.deep.equal([]);
    await drain(f.outbox, f.timers); // after storeRetryMs
    expect(f.notifier.sent.map((i) => i.id)).to.deep.equal(['later']);
    await f.outbox.stop();
  });

  it('leaves a desk card update to a later update of the same card queued behind it', async () => {
    const rendered: string[] = [];
    const f = setup({
      render: async (p) => {
        rendered.push(p.ticketId);
        return { kind: 'card', card: 'deskTicket', data: { ticketId: p.ticketId } };
      },
    });
    await f.outbox.start();
    const update = (ticketId: string, rev: number) =>
      f.make(`${ticketId}:r${rev}`, 'desk', {
        op: 'update',
        target: { conversationId: 'desk', activityId: `card-${ticketId}` },
        payload: { kind: 'deskCard', ticketId },
      });
    const text = () =>
      f.make('T-1:note', 'desk', {
        op: 'update',
        target: { conversationId: 'desk', activityId: 'card-T-1' },
      });
    // In this order (an item's place in its conversation is the order it was made in).
    await f.enqueue(update('T-1', 1), update('T-2', 1), text(), update('T-1', 2), update('T-1', 3));
    await drain(f.outbox, f.timers);
    // A text update is its own message; the desk card goes once, as the ticket is then.
    expect(f.notifier.sent.map((i) => i.id)).to.deep.equal(['T-2:r1', 'T-1:note', 'T-1:r3']);
    expect(rendered).to.deep.equal(['T-2', 'T-1']); // nothing rendered for the updates left out
    expect(await f.stored('T-1:r1')).to.deep.include({ status: 'sent', supersededBy: 'T-1:r2', attempts: 0 });
    expect(await f.stored('T-1:r2')).to.deep.include({ status: 'sent', supersededBy: 'T-1:r3' });
    expect(await f.stored('T-1:r1')).to.not.have.property('payload');
    expect(await f.stored('T-1:r3')).to.not.have.property('supersededBy');
    expect(await f.store.find(OUTBOX_COLLECTION, 'pending', 'pending')).to.have.length(0);
    await f.outbox.stop();
  });

  it('fails a desk card named by its ticket when nothing renders it', async () => {
    const f = setup();
    await f.outbox.start();
    await f.enqueue(f.make('card', 'desk', { payload: { kind: 'deskCard', ticketId: 'T-1' } }));
    await drain(f.outbox, f.timers);
    expect(await f.stored('card')).to.include({ status: 'failed' });
    expect(f.notifier.calls).to.deep.equal([]);
    await f.outbox.stop();
  });

  it('times out a send that never answers and retries it', async () => {
    const f = setup({ policy: { sendTimeoutMs: 5_000 } });
    await f.outbox.start();
    f.notifier.holdNext();
    await f.enqueue(f.make('a', 'c1'));
    await new Promise((r) => setTimeout(r, 10));
    expect(f.notifier.calls[0]!.signal?.aborted).to.equal(false);
    f.timers.advance(5_000);
    // The request that had no answer is stopped, not left to land beside the retry.
    expect(f.notifier.calls[0]!.signal?.aborted).to.equal(true);
    expect(f.notifier.calls[0]!.signal?.reason).to.be.instanceOf(DeliveryError);
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls).to.have.length(2);
    expect(f.notifier.calls[1]!.signal?.aborted).to.equal(false);
    const item = await f.stored('a');
    expect(item).to.include({ status: 'sent', attempts: 2 });
    expect(item.lastError).to.equal(undefined);
    f.notifier.release();
    await f.outbox.stop();
  });

  it('finds items enqueued without wake() at the next poll', async () => {
    const f = setup({ policy: { pollIntervalMs: 10_000 } });
    await f.outbox.start();
    await f.store.write(enqueueOps([f.make('a', 'c1')]));
    await f.outbox.idle();
    expect(f.notifier.calls).to.have.length(0);
    f.timers.advance(10_000);
    await f.outbox.idle();
    expect(f.notifier.calls).to.have.length(1);
    await f.outbox.stop();
  });

  it('stop() waits for the send in flight and starts nothing new', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.holdNext();
    await f.enqueue(f.make('1', 'c1'), f.make('2', 'c1'));
    await new Promise((r) => setTimeout(r, 10));
    let stopped = false;
    const stopping = f.outbox.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(stopped).to.equal(false);
    f.notifier.release();
    await stopping;
    expect(await f.stored('1')).to.include({ status: 'sent' });
    expect(await f.stored('2')).to.include({ status: 'pending' });
    expect(f.notifier.calls).to.have.length(1);
  });

  it('resumes pending items after a restart without resending sent ones', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.failNext(transient(500));
    await f.enqueue(f.make('1', 'c1'), f.make('2', 'c2'));
    await f.outbox.idle();
    await f.outbox.stop();
    expect(f.notifier.sent.map((i) => i.id)).to.deep.equal(['2']);
    const again = f.outboxWith({});
    await again.start();
    await drain(again, f.timers);
    expect(f.notifier.sent.map((i) => i.id)).to.deep.equal(['2', '1']);
    await again.stop();
  });

  it('treats an error that is not a DeliveryError as transient', async () => {
    const f = setup();
    await f.outbox.start();
    f.notifier.failNext(new TypeError('fetch failed'));
    await f.enqueue(f.make('a', 'c1'));
    await drain(f.outbox, f.timers);
    expect(f.notifier.calls).to.have.length(2);
    expect(f.notifier.calls[0]!.ok).to.equal(false);
    expect(new DeliveryError('x', { permanent: true }).code).to.equal('outbox.delivery');
    await f.outbox.stop();
  });

  for (const listsETags of [true, false])
    it(`drops an item settled elsewhere, marks a bad one failed (${listsETags ? 'findETags' : 'find'})`, async () => {
      const memory = new MemoryStore({ indexes: OUTBOX_INDEXES });
      // A backend without the optional findETags: the outbox reads every pending item instead.
      const store: Store = listsETags
        ? memory
        : {
            get: (c, id) => memory.get(c, id),
            write: (ops) => memory.write(ops),
            find: (c, index, key) => memory.find(c, index, key),
            count: (c) => memory.count(c),
            close: () => memory.close(),
          };
      const f = setup({ store });
      const outbox = f.outbox;
      await outbox.start();
      f.notifier.failNext(transient(429, 2_000));
      await store.write(enqueueOps([f.make('a', 'c1')]));
      outbox.wake();
      await outbox.idle();
      // Another instance (or an operator) settles 'a' while it waits; a bad item appears.
      const a = (await store.get<OutboxItem>(OUTBOX_COLLECTION, 'a'))!;
      await store.write([
        {
          op: 'put',
          collection: OUTBOX_COLLECTION,
          id: 'a',
          value: { ...a.value, status: 'sent' },
        },
        {
          op: 'put',
          collection: OUTBOX_COLLECTION,
          id: 'bad',
          value: { id: 'bad', status: 'pending' },
        },
        ...enqueueOps([f.make('b', 'c2')]),
      ]);
      outbox.wake();
      await drain(outbox, f.timers);
      expect(f.notifier.calls.map((c) => [c.item.id, c.ok])).to.deep.equal([
        ['a', false],
        ['b', true],
      ]);
      const bad = (await store.get<OutboxItem>(OUTBOX_COLLECTION, 'bad'))!.value;
      expect(bad.status).to.equal('failed');
      expect(bad.lastError).to.match(/^invalid item: /);
      await outbox.stop();
    });
});

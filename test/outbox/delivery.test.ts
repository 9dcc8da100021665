// The outbox against real HTTP: a local Bot-Connector-like server that records and fails on demand.
// Time is manual (server and outbox share the clock), so Retry-After and rate limits are checked
// to the millisecond from the server's own record, and the suite stays fast.

import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/logger.js';
import { Outbox, type OutboxDeps } from '../../src/outbox/outbox.js';
import {
  enqueueOps,
  newOutboxItem,
  OUTBOX_COLLECTION,
  OUTBOX_INDEXES,
  type OutboxItem,
  type OutboxItemInput,
} from '../../src/outbox/outboxItem.js';
import { ManualTimers } from '../../src/outbox/timers.js';
import { openLowdbStore } from '../../src/store/lowdbStore.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import type { IndexSpec, Store, WriteOp } from '../../src/store/store.js';
import { ManualClock, systemClock } from '../../src/time.js';
import { ConnectorServer, type ConnectorRequest } from './connectorServer.js';
import { drain } from './drive.js';
import { HttpNotifier } from './httpNotifier.js';

const INDEXES: IndexSpec = { ...OUTBOX_INDEXES, tickets: {} };
const DESK = '19:desk@thread.tacv2';

interface Backend {
  name: string;
  open(): Promise<{ store: Store; reopen(): Promise<Store>; cleanup(): Promise<void> }>;
}

const memory: Backend = {
  name: 'memory',
  async open() {
    const store = new MemoryStore({ indexes: INDEXES });
    // "Restart" over the same in-memory data: a new Outbox, the same store.
    return { store, reopen: async () => store, cleanup: async () => undefined };
  },
};

const lowdb: Backend = {
  name: 'lowdb',
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-'));
    let store: Store = await openLowdbStore({ dir, indexes: INDEXES });
    return {
      store,
      async reopen() {
        await store.close();
        store = await openLowdbStore({ dir, indexes: INDEXES });
        return store;
      },
      async cleanup() {
        await store.close().catch(() => undefined); // already closed by the test is fine
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

async function harness(backend: Backend, extra: Partial<OutboxDeps> = {}) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const server = await ConnectorServer.start({ clock });
  const opened = await backend.open();
  const notifier = new HttpNotifier(server.url, clock);
  const newOutbox = (store: Store) =>
    new Outbox({
      store,
      notifier,
      clock,
      timers,
      logger: silentLogger,
      random: () => 0.5,
      ...extra,
    });
  const h = {
    clock,
    timers,
    server,
    store: opened.store,
    outbox: newOutbox(opened.store),
    make: (id: string, conversationId: string, more: Partial<OutboxItemInput> = {}): OutboxItem =>
      newOutboxItem(
        {
          id,
          op: 'post',
          target: { conversationId },
          payload: { kind: 'text', text: id },
          ...more,
        },
        clock.now(),
      ),
    async enqueue(...items: OutboxItem[]) {
      await h.store.write(enqueueOps(items));
      h.outbox.wake();
    },
    async restart() {
      await h.outbox.stop();
      h.store = await opened.reopen();
      h.outbox = newOutbox(h.store);
      await h.outbox.start();
    },
    async stored(id: string) {
      return (await h.store.get<OutboxItem>(OUTBOX_COLLECTION, id))!.value;
    },
    async close() {
      await h.outbox.stop();
      await server.close();
      await opened.cleanup();
    },
  };
  await h.outbox.start();
  return h;
}

const ids = (rs: ConnectorRequest[]) => rs.map((r) => r.itemId);
const of = (conv: string, rs: ConnectorRequest[]) => rs.filter((r) => r.conversationId === conv);

/** The most requests to one conversation in any window of `ms` (half-open, starting at a request). */
function maxInWindow(rs: ConnectorRequest[], ms: number): number {
  return Math.max(0, ...rs.map((r) => rs.filter((o) => o.at >= r.at && o.at < r.at + ms).length));
}

describe('Outbox over HTTP', () => {
  let h: Awaited<ReturnType<typeof harness>>;
  afterEach(async () => h?.close());

  it('delivers an item once and marks it sent with the connector activity id', async () => {
    h = await harness(memory);
    await h.enqueue(
      h.make('OUT-1:ack:reporter', 'a:reporter-chat', {
        payload: { kind: 'card', card: 'ack', data: { minutes: 12 } },
      }),
    );
    await drain(h.outbox, h.timers);
    expect(
      h.server.requests.map((r) => [r.kind, r.conversationId, r.itemId, r.status]),
    ).to.deep.equal([['post', 'a:reporter-chat', 'OUT-1:ack:reporter', 201]]);
    expect(await h.stored('OUT-1:ack:reporter')).to.include({
      status: 'sent',
      sentActivityId: 'act-1',
    });
  });

  it('delivers an event enqueued twice once', async () => {
    h = await harness(memory);
    await h.enqueue(h.make('OUT-1:update:1', 'c1'));
    await h.enqueue(h.make('OUT-1:update:1', 'c1')).catch(() => undefined); // ConflictError: already there
    await drain(h.outbox, h.timers);
    expect(ids(h.server.requests)).to.deep.equal(['OUT-1:update:1']);
  });

  it('does not retry a 429 before its Retry-After of 2 seconds', async () => {
    h = await harness(memory);
    h.server.failNext({ status: 429, retryAfter: '2' });
    await h.enqueue(h.make('a', 'c1'));
    await h.outbox.idle();
    h.timers.advance(1_999);
    await h.outbox.idle();
    expect(h.server.requests).to.have.length(1);
    await drain(h.outbox, h.timers);
    const [first, second] = h.server.requests;
    expect([first!.status, second!.status]).to.deep.equal([429, 201]);
    expect(second!.at - first!.at).to.equal(2_000);
  });

  it('retries a 500 with exponential backoff', async () => {
    h = await harness(memory);
    h.server.failNext({ status: 500 }, { status: 500 }, { status: 502 });
    await h.enqueue(h.make('a', 'c1'));
    await drain(h.outbox, h.timers);
    const at = h.server.requests.map((r) => r.at);
    expect(h.server.requests.map((r) => r.status)).to.deep.equal([500, 500, 502, 201]);
    expect(at.slice(1).map((t, i) => t - at[i]!)).to.deep.equal([375, 750, 1_500]);
    expect(await h.stored('a')).to.include({ status: 'sent', attempts: 4 });
  });

  it('records a 403 on the ticket and warns the desk, then delivers the next items', async () => {
    h = await harness(memory, {
      async onPermanentFailure(item, err) {
        const ticket = (await h.store.get<{ timeline: string[] }>('tickets', item.ticketId!))!;
        const warning = newOutboxItem(
          {
            id: `${item.id}:failed:desk`,
            op: 'post',
            target: { conversationId: DESK },
            payload: { kind: 'text', text: `Could not deliver to the reporter: ${err.message}` },
            ticketId: item.ticketId,
          },
          h.clock.now(),
        );
        const ops: WriteOp[] = [
          {
            op: 'put',
            collection: 'tickets',
            id: ticket.id,
            value: { timeline: [...ticket.value.timeline, `delivery-failed: ${err.message}`] },
            ifMatch: ticket.eTag,
          },
          ...enqueueOps([warning]),
        ];
        return ops;
      },
    });
    await h.store.write([{ op: 'put', collection: 'tickets', id: 'T1', value: { timeline: [] } }]);
    h.server.failNext({ status: 403 });
    await h.enqueue(
      h.make('T1:ack', 'c1', { ticketId: 'T1' }),
      h.make('T1:update:1', 'c1', { ticketId: 'T1' }),
      h.make('T1:update:2', 'c1', { ticketId: 'T1' }),
    );
    await drain(h.outbox, h.timers);
    expect(await h.stored('T1:ack')).to.include({
      status: 'failed',
      lastError: 'HTTP 403: {"error":{"code":"HTTP403"}}',
    });
    expect(ids(of('c1', h.server.delivered()))).to.deep.equal(['T1:update:1', 'T1:update:2']);
    expect(ids(of(DESK, h.server.delivered()))).to.deep.equal(['T1:ack:failed:desk']);
    expect(
      (await h.store.get<{ timeline: string[] }>('tickets', 'T1'))!.value.timeline,
    ).to.have.length(1);
  });

  it('keeps order in a failing conversation while the others proceed', async () => {
    h = await harness(memory);
    h.server.failNext({ status: 429, retryAfter: '5' }, { status: 500 });
    await h.enqueue(...[1, 2, 3].map((n) => h.make(`c1:${n}`, 'c1')));
    await h.outbox.idle();
    await h.enqueue(...[1, 2, 3].map((n) => h.make(`c2:${n}`, 'c2')));
    await drain(h.outbox, h.timers);
    const c1 = of('c1', h.server.delivered());
    const c2 = of('c2', h.server.delivered());
    expect(ids(c1)).to.deep.equal(['c1:1', 'c1:2', 'c1:3']);
    expect(ids(c2)).to.deep.equal(['c2:1', 'c2:2', 'c2:3']);
    expect(c1[0]!.at - h.server.requests[0]!.at).to.equal(5_000);
    expect(Math.max(...c2.map((r) => r.at))).to.be.below(c1[0]!.at); // c2 did not wait for c1
  });

  it('keeps each conversation within 7 sends per second and 60 per 30 seconds', async () => {
    h = await harness(memory);
    const busy = Array.from({ length: 75 }, (_, n) => h.make(`busy:${n}`, 'busy'));
    const quiet = Array.from({ length: 10 }, (_, n) => h.make(`quiet:${n}`, 'quiet'));
    await h.enqueue(...busy, ...quiet);
    await drain(h.outbox, h.timers);
    const b = of('busy', h.server.requests);
    expect(ids(b)).to.deep.equal(busy.map((i) => i.id));
    expect(maxInWindow(b, 1_000)).to.equal(7);
    expect(maxInWindow(b, 30_000)).to.equal(60);
    expect(b[74]!.at - b[0]!.at).to.be.at.least(30_000); // the 61st waited for the first to leave
    const q = of('quiet', h.server.requests);
    expect(maxInWindow(q, 1_000)).to.equal(7);
    expect(q[9]!.at - q[0]!.at).to.equal(1_000); // not held back by the busy conversation
  });

  it('runs on real time: delivers at once after wake(), and a 429 waits its Retry-After', async () => {
    const server = await ConnectorServer.start();
    const store = new MemoryStore({ indexes: INDEXES });
    const outbox = new Outbox({
      store,
      notifier: new HttpNotifier(server.url),
      clock: systemClock,
      logger: silentLogger,
    });
    try {
      await outbox.start();
      const write = async (item: OutboxItem) => {
        await store.write(enqueueOps([item]));
        outbox.wake();
      };
      const started = Date.now();
      await write(
        newOutboxItem(
          {
            id: 'now',
            op: 'post',
            target: { conversationId: 'c1' },
            payload: { kind: 'text', text: 'x' },
          },
          new Date(),
        ),
      );
      await outbox.idle();
      expect(Date.now() - started).to.be.below(500); // not the 15 s poll
      server.failNext({ status: 429, retryAfter: '1' });
      await write(
        newOutboxItem(
          {
            id: 'later',
            op: 'post',
            target: { conversationId: 'c1' },
            payload: { kind: 'text', text: 'x' },
          },
          new Date(),
        ),
      );
      while ((await store.find(OUTBOX_COLLECTION, 'pending', 'pending')).length > 0)
        await new Promise((r) => setTimeout(r, 20));
      const [, throttled, retried] = server.requests;
      expect([throttled!.status, retried!.status]).to.deep.equal([429, 201]);
      expect(retried!.at - throttled!.at).to.be.at.least(1_000);
    } finally {
      await outbox.stop();
      await server.close();
    }
  });

  for (const backend of [memory, lowdb])
    it(`resumes pending items after a restart without resending sent ones (${backend.name})`, async () => {
      h = await harness(backend);
      const items = [
        h.make('card', DESK),
        h.make('u1', DESK, { op: 'update', target: { conversationId: DESK, activityOf: 'card' } }),
        h.make('r1', DESK, { op: 'reply', target: { conversationId: DESK, threadOf: 'card' } }),
        h.make('u2', DESK, { op: 'update', target: { conversationId: DESK, activityOf: 'card' } }),
      ];
      // The card fails once then goes; its first update fails: the rest waits behind it.
      h.server.failNext({ status: 500 }, 'pass', { status: 503 });
      await h.enqueue(...items);
      await h.outbox.idle();
      h.timers.advance(375);
      await h.outbox.idle();
      expect(h.server.requests.map((r) => [r.itemId, r.status])).to.deep.equal([
        ['card', 500],
        ['card', 201],
        ['u1', 503],
      ]);
      await h.restart();
      await drain(h.outbox, h.timers);
      const delivered = h.server.delivered();
      expect(ids(delivered)).to.deep.equal(['card', 'u1', 'r1', 'u2']);
      expect(delivered.slice(1).map((r) => r.activityId)).to.deep.equal([
        'act-1',
        'act-1',
        'act-1',
      ]);
      expect(h.server.requests).to.have.length(6); // nothing sent twice
      for (const i of items)
        expect(await h.stored(i.id), i.id)
          .to.include({ status: 'sent' })
          .and.not.have.property('payload'); // sent before the restart or after: none keeps it
    });

  for (const backend of [memory, lowdb])
    for (const seed of [1, 2, 3])
      it(`delivers 5 conversations x 20 updates exactly once, in order, with 30% of calls failing (${backend.name}, seed ${seed})`, async () => {
        h = await harness(backend, { random: Math.random });
        h.server.failRandomly(0.3, [{ status: 429, retryAfter: '1' }, { status: 500 }], seed);
        const convs = Array.from(
          { length: 5 },
          (_, c) => `19:conv${c}@thread.tacv2;messageid=${1000 + c}`,
        );
        const expected = new Map<string, string[]>();
        for (const conv of convs) {
          const card = h.make(`${conv}:card`, conv, {
            payload: { kind: 'card', card: 'desk', data: { rev: 0 } },
          });
          await h.enqueue(card);
          expected.set(conv, [card.id]);
        }
        // Round-robin, one write per event, a little time between: as the desk would produce them.
        for (let n = 1; n <= 20; n++) {
          for (const conv of convs) {
            const op = n % 2 === 0 ? 'update' : 'reply';
            const target =
              op === 'update'
                ? { conversationId: conv, activityOf: `${conv}:card` }
                : { conversationId: conv, threadOf: `${conv}:card` };
            const item = h.make(`${conv}:u${n}`, conv, {
              op,
              target,
              payload: { kind: 'card', card: 'desk', data: { rev: n } },
            });
            await h.enqueue(item);
            expected.get(conv)!.push(item.id);
          }
          h.timers.advance(50);
        }
        await drain(h.outbox, h.timers);

        const all = h.server.requests;
        const statuses = all.map((r) => r.status);
        expect(statuses.filter((s) => s === 429).length, '429s').to.be.greaterThan(5);
        expect(statuses.filter((s) => s === 500).length, '500s').to.be.greaterThan(5);
        const delivered = h.server.delivered();
        expect(delivered).to.have.length(105);
        expect(new Set(ids(delivered)).size).to.equal(105); // each item id recorded once
        for (const conv of convs) {
          const rs = of(conv, all);
          expect(ids(of(conv, delivered)), conv).to.deep.equal(expected.get(conv));
          expect(maxInWindow(rs, 1_000)).to.be.at.most(7);
          // After a 429, nothing more for that conversation before Retry-After (1 s) has passed.
          rs.forEach((r, i) => {
            if (r.status === 429 && rs[i + 1]) expect(rs[i + 1]!.at - r.at).to.be.at.least(1_000);
          });
        }
        expect(await h.store.find(OUTBOX_COLLECTION, 'pending', 'pending')).to.have.length(0);
        expect(await h.store.find(OUTBOX_COLLECTION, 'failed', 'failed')).to.have.length(0);
      });
});

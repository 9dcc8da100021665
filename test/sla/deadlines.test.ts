// The SLA clock (issue 3 item 4): durable deadlines fire at their time, exactly once, across
// restarts and races; an acknowledged ticket never escalates; business-hours targets skip nights,
// weekends and DST changes. Time is manual: ManualClock and the outbox's ManualTimers.

import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeskService } from '../../src/desk/deskService.js';
import type { DeskAction } from '../../src/desk/deskActions.js';
import { type BusinessHours, dueAt, type SupportPlanKind, type Target } from '../../src/domain/sla.js';
import { type Deadline, deadlineOf, type Ticket } from '../../src/domain/ticket.js';
import { silentLogger } from '../../src/logger.js';
import { ManualTimers } from '../../src/outbox/timers.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { DeadlineScheduler } from '../../src/sla/deadlines.js';
import { FaultyStore } from '../../src/store/faultyStore.js';
import { openLowdbStore } from '../../src/store/lowdbStore.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { type Store, StoreUnavailableError, type WriteOp } from '../../src/store/store.js';
import { ManualClock } from '../../src/time.js';
import {
  ALEX,
  ALL_INDEXES,
  capturingLogger,
  cardDataOf,
  deadlinesIn,
  DESK_CHANNEL,
  deskDirectory,
  ESCALATION_CONTACTS,
  itemsOf,
  noTimers,
  PATTI,
  reportOutage,
  schedulerTimers,
  ticketOf,
  wireLoop,
} from '../desk/deskHarness.js';

const T0 = new Date('2026-11-23T15:00:00Z'); // Monday, 7:00 AM in Los Angeles
const at = (minutes: number, ms = 0) => new Date(T0.getTime() + minutes * 60_000 + ms);
const ALEX_CHAT = { id: 'a:alex-personal', kind: 'personal' as const };

/** Fires the scheduler's timers one by one up to `until`, letting each tick finish. */
async function runUntil(timers: ManualTimers, scheduler: DeadlineScheduler, until: Date): Promise<void> {
  for (let next = timers.nextAt(); next && next.getTime() <= until.getTime(); next = timers.nextAt()) {
    timers.runNext();
    await scheduler.tick(); // joins the tick the timer started
  }
  if (timers.clock.now().getTime() < until.getTime()) timers.clock.set(until);
}

describe('DeadlineScheduler', () => {
  /** A ticket as far as its deadlines go: open, unacknowledged, with this SLA clock. */
  const ticketOp = (id: string, sla: { warnAt: string; dueAt: string; warnedAt?: string }): WriteOp => ({
    op: 'put',
    collection: COLLECTIONS.tickets,
    id,
    value: { id, status: 'submitted', sla: { kind: 'acknowledgement', target: '30 minutes, 24x7', ...sla } },
  });
  /** What the desk's handler does to the ticket: marks the deadline fired. */
  async function markFired(store: Store, d: Deadline): Promise<void> {
    const doc = (await store.get<Ticket>(COLLECTIONS.tickets, d.ticketId))!;
    const at = new Date(0).toISOString();
    const sla = { ...doc.value.sla, ...(d.kind === 'warn' ? { warnedAt: at } : { escalatedAt: at }) };
    await store.write([{ op: 'put', collection: COLLECTIONS.tickets, id: d.ticketId, value: { ...doc.value, sla }, ifMatch: doc.eTag }]);
  }

  function harness() {
    const store = new MemoryStore({ indexes: ALL_INDEXES });
    const clock = new ManualClock(T0);
    const timers = new ManualTimers(clock);
    const fired: { id: string; at: number }[] = [];
    let failures = 0;
    const scheduler = new DeadlineScheduler({
      store,
      clock,
      logger: silentLogger,
      timers: schedulerTimers(timers),
      handle: async (d) => {
        if (failures > 0) {
          failures--;
          throw new Error('handler failed (injected)');
        }
        fired.push({ id: d.id, at: clock.now().getTime() });
        await markFired(store, d);
      },
    });
    return { store, clock, timers, fired, scheduler, failNext: (n = 1) => void (failures = n) };
  }

  const rows = [
    { name: 'already due at start', offsetMs: -60_000, firesAt: 0 },
    { name: 'due in 45 seconds (past the 30-second re-check)', offsetMs: 45_000, firesAt: 45_000 },
    { name: 'due in 20 minutes', offsetMs: 20 * 60_000, firesAt: 20 * 60_000 },
    { name: 'due in two days', offsetMs: 2 * 86_400_000, firesAt: 2 * 86_400_000 },
  ];
  for (const row of rows)
    it(`fires a deadline ${row.name} at its time, not before`, async () => {
      const h = harness();
      const due = new Date(T0.getTime() + row.offsetMs).toISOString();
      await h.store.write([ticketOp('OUT-1', { warnAt: due, dueAt: at(60 * 24 * 3).toISOString() })]);
      await h.scheduler.start();
      expect(h.scheduler.pending).to.equal(2);
      if (row.firesAt > 0) {
        await runUntil(h.timers, h.scheduler, new Date(T0.getTime() + row.firesAt - 1));
        expect(h.fired).to.deep.equal([]);
      }
      await runUntil(h.timers, h.scheduler, new Date(T0.getTime() + row.firesAt));
      expect(h.fired).to.deep.equal([{ id: 'OUT-1:warn', at: T0.getTime() + row.firesAt }]);
      expect((await deadlinesIn(h.store)).map((d) => d.id)).to.deep.equal(['OUT-1:escalate']);
      expect(h.scheduler.pending).to.equal(1);
      await h.scheduler.stop();
    });

  it('fires on tick() once the clock has passed the deadline, and only then', async () => {
    const h = harness();
    const scheduler = new DeadlineScheduler({ store: h.store, clock: h.clock, logger: silentLogger, timers: noTimers, handle: async (d) => {
      h.fired.push({ id: d.id, at: h.clock.now().getTime() });
      await markFired(h.store, d);
    } });
    await h.store.write([ticketOp('OUT-1', { warnAt: at(20).toISOString(), dueAt: at(30).toISOString() })]);
    await scheduler.start();
    h.clock.set(at(19, 59_999));
    await scheduler.tick();
    expect(h.fired).to.deep.equal([]);
    h.clock.set(at(20));
    await scheduler.tick();
    expect(h.fired.map((f) => f.id)).to.deep.equal(['OUT-1:warn']);
    h.clock.set(at(45));
    await scheduler.tick();
    await scheduler.tick();
    expect(h.fired.map((f) => f.id)).to.deep.equal(['OUT-1:warn', 'OUT-1:escalate']);
    expect(await deadlinesIn(h.store)).to.deep.equal([]);
  });

  it('learns deadlines tracked after start and fires them in time order', async () => {
    const h = harness();
    await h.scheduler.start();
    const a = { warnAt: at(3).toISOString(), dueAt: at(90).toISOString() };
    const b = { warnAt: at(5).toISOString(), dueAt: at(90).toISOString() };
    await h.store.write([ticketOp('B', b), ticketOp('A', a)]);
    h.scheduler.track('B', [deadlineOf('B', 'warn', b.warnAt)]);
    h.scheduler.track('A', [deadlineOf('A', 'warn', a.warnAt)]);
    await runUntil(h.timers, h.scheduler, at(10));
    expect(h.fired).to.deep.equal([
      { id: 'A:warn', at: at(3).getTime() },
      { id: 'B:warn', at: at(5).getTime() },
    ]);
  });

  it('forgets the deadlines a ticket no longer has (acknowledged) without reading it when due', async () => {
    const h = harness();
    const sla = { warnAt: at(3).toISOString(), dueAt: at(9).toISOString() };
    await h.store.write([ticketOp('A', sla)]);
    await h.scheduler.start();
    expect(h.scheduler.pending).to.equal(2);
    h.scheduler.track('A', [deadlineOf('A', 'escalate', sla.dueAt)]);
    expect(h.scheduler.pending).to.equal(1);
    h.scheduler.track('A', []);
    expect(h.scheduler.pending).to.equal(0);
    await runUntil(h.timers, h.scheduler, at(10));
    expect(h.fired).to.deep.equal([]);
  });

  it('retries a deadline whose handler failed instead of losing it', async () => {
    const h = harness();
    await h.store.write([ticketOp('OUT-1', { warnAt: at(1).toISOString(), dueAt: at(1).toISOString(), warnedAt: at(0).toISOString() })]);
    await h.scheduler.start();
    h.failNext(2);
    await runUntil(h.timers, h.scheduler, at(1));
    expect(h.fired).to.deep.equal([]);
    expect(h.scheduler.pending).to.equal(1);
    expect(await deadlinesIn(h.store)).to.have.length(1);
    await runUntil(h.timers, h.scheduler, at(1, 60_000));
    expect(h.fired).to.deep.equal([{ id: 'OUT-1:escalate', at: at(1, 10_000).getTime() }]); // two retries, 5 s apart
    expect(await deadlinesIn(h.store)).to.deep.equal([]);
  });

  it('learns every due time at start from the index, reading no ticket', async () => {
    const inner = new MemoryStore({ indexes: ALL_INDEXES });
    for (let i = 0; i < 50; i += 1)
      await inner.write([ticketOp(`OUT-${i}`, { warnAt: at(50 - i).toISOString(), dueAt: at(60).toISOString() })]);
    const reads: string[] = [];
    const store: Store = Object.assign(Object.create(inner) as Store, {
      get: (c: string, id: string) => (reads.push(`get ${id}`), inner.get(c, id)),
      find: (c: string, i: string, k: string) => (reads.push(`find ${i}`), inner.find(c, i, k)),
    });
    const clock = new ManualClock(T0);
    const fired: string[] = [];
    const scheduler = new DeadlineScheduler({ store, clock, logger: silentLogger, timers: noTimers, handle: async (d) => {
      fired.push(d.id);
      await markFired(inner, d);
    } });
    await scheduler.start();
    expect(reads).to.deep.equal([]);
    expect(scheduler.pending).to.equal(100);
    clock.set(at(3));
    await scheduler.tick();
    expect(fired).to.deep.equal(['OUT-49:warn', 'OUT-48:warn', 'OUT-47:warn']);
  });

  it('learns them from the open tickets on a store without indexEntries', async () => {
    const inner = new MemoryStore({ indexes: ALL_INDEXES });
    await inner.write([
      ticketOp('OUT-1', { warnAt: at(1).toISOString(), dueAt: at(2).toISOString() }),
      ticketOp('OUT-2', { warnAt: at(1).toISOString(), dueAt: at(2).toISOString(), warnedAt: at(1).toISOString() }),
    ]);
    const store: Store = Object.assign(Object.create(inner) as Store, { indexEntries: undefined });
    const scheduler = new DeadlineScheduler({ store, clock: new ManualClock(T0), logger: silentLogger, timers: noTimers, handle: async () => {} });
    await scheduler.start();
    expect(scheduler.pending).to.equal(3);
  });

  it('moves a deadline whose time changed, keeping one entry for it', async () => {
    const h = harness();
    await h.scheduler.start();
    await h.store.write([
      ticketOp('A', { warnAt: at(8).toISOString(), dueAt: at(90).toISOString() }),
      ticketOp('B', { warnAt: at(4).toISOString(), dueAt: at(90).toISOString() }),
    ]);
    h.scheduler.track('A', [deadlineOf('A', 'warn', at(3).toISOString())]);
    h.scheduler.track('B', [deadlineOf('B', 'warn', at(4).toISOString())]);
    h.scheduler.track('A', [deadlineOf('A', 'warn', at(8).toISOString())]);
    expect(h.scheduler.pending).to.equal(2);
    await runUntil(h.timers, h.scheduler, at(10));
    expect(h.fired).to.deep.equal([
      { id: 'B:warn', at: at(4).getTime() },
      { id: 'A:warn', at: at(8).getTime() },
    ]);
  });

  it('fires a deadline moved away and back once, and keeps only what is still tracked', async () => {
    const h = harness();
    await h.scheduler.start();
    const sla = { warnAt: at(3).toISOString(), dueAt: at(600).toISOString() };
    await h.store.write([ticketOp('A', sla)]);
    h.scheduler.track('A', [deadlineOf('A', 'warn', at(3).toISOString())]);
    h.scheduler.track('A', [deadlineOf('A', 'warn', at(5).toISOString())]);
    h.scheduler.track('A', [deadlineOf('A', 'warn', at(3).toISOString())]);
    // Thousands of tickets tracked and then acknowledged leave nothing behind.
    for (let i = 0; i < 5_000; i++) h.scheduler.track(`T-${i}`, [deadlineOf(`T-${i}`, 'warn', at(4).toISOString())]);
    for (let i = 0; i < 5_000; i++) h.scheduler.track(`T-${i}`, []);
    expect(h.scheduler.pending).to.equal(1);
    await runUntil(h.timers, h.scheduler, at(10));
    expect(h.fired).to.deep.equal([{ id: 'A:warn', at: at(3).getTime() }]);
    expect(h.scheduler.pending).to.equal(0);
  });

  it('sets its timer again only when the earliest deadline changes', async () => {
    const h = harness();
    const sets: number[] = [];
    const inner = schedulerTimers(h.timers);
    const scheduler = new DeadlineScheduler({
      store: h.store,
      clock: h.clock,
      logger: silentLogger,
      timers: { set: (fn, ms) => (sets.push(ms), inner.set(fn, ms)) },
      handle: async (d) => void h.fired.push({ id: d.id, at: h.clock.now().getTime() }),
    });
    await scheduler.start();
    scheduler.track('A', [deadlineOf('A', 'warn', at(0, 20_000).toISOString())]);
    for (let i = 0; i < 100; i++) scheduler.track(`L-${i}`, [deadlineOf(`L-${i}`, 'warn', at(5).toISOString())]);
    expect(sets).to.deep.equal([20_000]);
    scheduler.track('B', [deadlineOf('B', 'warn', at(0, 10_000).toISOString())]);
    expect(sets).to.deep.equal([20_000, 10_000]);
    scheduler.track('B', []); // the earliest is gone: back to A's time
    expect(sets).to.deep.equal([20_000, 10_000, 20_000]);
  });

  it('fires a deadline at its stored time when it learnt an earlier one', async () => {
    // Another instance moved the SLA later: the ticket, not the memory, decides.
    const h = harness();
    await h.store.write([ticketOp('A', { warnAt: at(3).toISOString(), dueAt: at(90).toISOString() })]);
    await h.scheduler.start();
    await h.store.write([ticketOp('A', { warnAt: at(7).toISOString(), dueAt: at(90).toISOString() })]);
    await runUntil(h.timers, h.scheduler, at(10));
    expect(h.fired).to.deep.equal([{ id: 'A:warn', at: at(7).getTime() }]);
  });

  it('skips a deadline whose ticket moved on (fired elsewhere, acknowledged) or is gone', async () => {
    const h = harness();
    await h.store.write([
      ticketOp('OUT-1', { warnAt: at(1).toISOString(), dueAt: at(2).toISOString() }),
      ticketOp('OUT-2', { warnAt: at(1).toISOString(), dueAt: at(2).toISOString() }),
    ]);
    await h.scheduler.start();
    await markFired(h.store, deadlineOf('OUT-1', 'warn', at(1).toISOString()));
    await h.store.write([{ op: 'delete', collection: COLLECTIONS.tickets, id: 'OUT-2' }]);
    await runUntil(h.timers, h.scheduler, at(3));
    expect(h.fired.map((f) => f.id)).to.deep.equal(['OUT-1:escalate']);
    expect(h.scheduler.pending).to.equal(0);
  });

  it('retries a deadline whose ticket could not be read', async () => {
    const h = harness();
    await h.store.write([ticketOp('OUT-1', { warnAt: at(1).toISOString(), dueAt: at(60).toISOString() })]);
    let failReads = 0;
    const flaky: Store = Object.assign(Object.create(h.store) as Store, {
      get: (c: string, id: string) =>
        failReads-- > 0 ? Promise.reject(new StoreUnavailableError('injected read failure')) : h.store.get(c, id),
    });
    const scheduler = new DeadlineScheduler({ store: flaky, clock: h.clock, logger: silentLogger, timers: noTimers, handle: async (d) => {
      h.fired.push({ id: d.id, at: h.clock.now().getTime() });
      await markFired(h.store, d);
    } });
    await scheduler.start();
    failReads = 1;
    h.clock.set(at(1));
    await scheduler.tick();
    expect(h.fired).to.deep.equal([]);
    h.clock.set(at(1, 5_000));
    await scheduler.tick();
    expect(h.fired.map((f) => f.id)).to.deep.equal(['OUT-1:warn']);
  });
});

describe('the SLA clock of an outage ticket', () => {
  async function setup(options: { store?: Store; plan?: SupportPlanKind } = {}) {
    const store = options.store ?? new MemoryStore({ indexes: ALL_INDEXES });
    const clock = new ManualClock(T0);
    const timers = new ManualTimers(clock);
    const directory = deskDirectory({ plan: options.plan ?? 'subscription' });
    const loop = wireLoop({ store, directory, clock });
    const scheduler = new DeadlineScheduler({
      store,
      clock,
      logger: silentLogger,
      timers: schedulerTimers(timers),
      handle: (d) => loop.desk.onDeadline(d),
    });
    loop.desk.setHooks({ wakeOutbox: () => undefined, deadlinesChanged: (id, pending) => scheduler.track(id, pending) });
    await scheduler.start();
    const ticket = (await reportOutage(store, loop.outage, ALEX, ALEX_CHAT))!;
    const ids = async () => (await itemsOf(store, ticket.id)).map((i) => i.id);
    const run = (until: Date) => runUntil(timers, scheduler, until);
    return { store, clock, timers, directory, loop, scheduler, ticket, ids, run };
  }

  it('is due 30 minutes after submission and warns at the directory’s lead (10 minutes)', async () => {
    const { ticket, store } = await setup();
    expect(ticket.sla).to.include({ kind: 'acknowledgement', dueAt: at(30).toISOString(), warnAt: at(20).toISOString() });
    expect(await deadlinesIn(store)).to.deep.equal([
      { id: `${ticket.id}:escalate`, ticketId: ticket.id, kind: 'escalate', at: at(30).toISOString() },
      { id: `${ticket.id}:warn`, ticketId: ticket.id, kind: 'warn', at: at(20).toISOString() },
    ]);
  });

  it('warns the desk at due − 10 minutes in the ticket’s thread, not before', async () => {
    const { ticket, store, ids, run } = await setup();
    await run(at(19, 59_999));
    expect(await ids()).to.deep.equal([`${ticket.id}:desk:card`]);
    await run(at(20));
    const warn = (await itemsOf(store, ticket.id)).find((i) => i.id === `${ticket.id}:desk:warn`)!;
    expect(warn).to.deep.include({ op: 'reply', conversationId: DESK_CHANNEL });
    expect(warn.target).to.deep.equal({ conversationId: DESK_CHANNEL, threadOf: `${ticket.id}:desk:card` });
    expect(warn.payload).to.deep.include({ kind: 'text' });
    expect((warn.payload as { text: string }).text).to.match(/not acknowledged: the acknowledgement is due in 10 minutes/);
    const t = await ticketOf(store, ticket.id);
    expect(t.sla.warnedAt).to.equal(at(20).toISOString());
    expect(t.timeline.at(-1)).to.deep.include({ type: 'warning' });
    // the desk card is updated for everyone, after the warning in the same conversation
    expect(await ids()).to.deep.equal([`${ticket.id}:desk:card`, `${ticket.id}:desk:warn`, `${ticket.id}:desk:card:r1`]);
    expect(await deadlinesIn(store)).to.have.length(1);
  });

  it('escalates at the deadline, mentioning the escalation contacts, and tells the reporter', async () => {
    const { ticket, store, ids, run } = await setup();
    await run(at(29, 59_999));
    expect(await ids()).to.not.include(`${ticket.id}:desk:escalate`);
    await run(at(30));
    const items = await itemsOf(store, ticket.id);
    const escalation = items.find((i) => i.id === `${ticket.id}:desk:escalate`)!;
    expect(escalation).to.deep.include({ op: 'reply', conversationId: DESK_CHANNEL, status: 'pending' });
    expect(escalation.target.threadOf).to.equal(`${ticket.id}:desk:card`);
    const payload = escalation.payload as { kind: 'text'; text: string; mentions: { id: string; name: string }[] };
    expect(payload.text).to.match(/ESCALATION: OUT-\d+ \(severity A\) missed its acknowledgement deadline/);
    for (const c of ESCALATION_CONTACTS) expect(payload.text).to.include(`<at>${c.name}</at>`);
    expect(payload.mentions).to.deep.equal(ESCALATION_CONTACTS.map((c) => ({ id: c.aadObjectId, name: c.name })));
    const told = items.find((i) => i.id === `${ticket.id}:escalated:reporter`)!;
    expect(told).to.deep.include({ op: 'post', conversationId: ALEX_CHAT.id });
    expect(String(cardDataOf(told).text)).to.match(/not acknowledged within its target, so it has been escalated/);
    const t = await ticketOf(store, ticket.id);
    expect(t.sla.escalatedAt).to.equal(at(30).toISOString());
    expect(t.timeline.filter((e) => e.type === 'escalated')).to.have.length(1);
    expect(await deadlinesIn(store)).to.deep.equal([]);
    expect(await ids()).to.deep.equal([
      `${ticket.id}:desk:card`,
      `${ticket.id}:desk:warn`,
      `${ticket.id}:desk:card:r1`,
      `${ticket.id}:desk:escalate`,
      `${ticket.id}:escalated:reporter`,
      `${ticket.id}:desk:card:r2`,
    ]);
  });

  const ackRows: { name: string; minute?: number; verb?: DeskAction['verb']; warns: boolean; escalates: boolean }[] = [
    { name: 'acknowledged before the warning: neither warns nor escalates', minute: 12, warns: false, escalates: false },
    { name: 'acknowledged after the warning: warned, never escalates', minute: 25, warns: true, escalates: false },
    { name: 'acknowledged one minute before the deadline: never escalates', minute: 29, warns: true, escalates: false },
    { name: 'resolved without acknowledgement: neither', minute: 5, verb: 'desk.resolve', warns: false, escalates: false },
    { name: 'left alone: warns, then escalates once', warns: true, escalates: true },
  ];
  for (const row of ackRows)
    it(`a ticket ${row.name}`, async () => {
      const { ticket, store, loop, run, clock } = await setup();
      if (row.minute !== undefined) {
        await run(at(row.minute));
        const t = await ticketOf(store, ticket.id);
        const view = await loop.desk.act(PATTI, { verb: row.verb ?? 'desk.acknowledge', data: { ticketId: ticket.id, rev: t.rev, resolution: 'Certificate renewed.' } } as DeskAction);
        expect(view.data.notice).to.equal('');
      }
      await run(at(24 * 60));
      const ids = (await itemsOf(store, ticket.id)).map((i) => i.id);
      expect(ids.includes(`${ticket.id}:desk:warn`), 'warned').to.equal(row.warns);
      expect(ids.filter((i) => i === `${ticket.id}:desk:escalate`)).to.have.length(row.escalates ? 1 : 0);
      expect(ids.includes(`${ticket.id}:escalated:reporter`), 'reporter told').to.equal(row.escalates);
      // its deadlines are dropped either way: nothing is left to fire
      expect(await deadlinesIn(store)).to.deep.equal([]);
      expect(clock.now().getTime()).to.equal(at(24 * 60).getTime());
    });

  it('moves the deadlines when the desk transfers an outage to a business-hours incident', async () => {
    const { ticket, store, loop, run, ids } = await setup();
    await run(at(5));
    await loop.desk.act(PATTI, { verb: 'desk.transfer', data: { ticketId: ticket.id, rev: 0, transferTo: 'incident', severity: 'B', transferReason: 'Only one user is affected.' } });
    // subscription plan, severity B: 4 business hours from 7:05 AM Monday (LA) = 1:00 PM = 21:00Z
    const t = await ticketOf(store, ticket.id);
    expect(t.sla).to.include({ kind: 'response', dueAt: '2026-11-23T21:00:00.000Z', warnAt: '2026-11-23T20:50:00.000Z' });
    await run(new Date('2026-11-23T20:49:59.999Z'));
    expect((await ids()).filter((i) => /:desk:(warn|escalate)$/.test(i))).to.deep.equal([]);
    await run(new Date('2026-11-23T21:00:00.000Z'));
    expect((await ids()).filter((i) => /:desk:(warn|escalate)$/.test(i))).to.deep.equal([`${ticket.id}:desk:warn`, `${ticket.id}:desk:escalate`]);
    const escalation = (await itemsOf(store, ticket.id)).find((i) => i.id.endsWith(':desk:escalate'))!;
    expect((escalation.payload as { text: string }).text).to.match(/missed its first response deadline/);
  });

  it('warns and escalates again on the new SLA of a transfer made after the warning', async () => {
    const { ticket, store, loop, run, ids } = await setup();
    await run(at(21));
    expect((await ids()).filter((i) => /:desk:(warn|escalate)/.test(i))).to.deep.equal([`${ticket.id}:desk:warn`]);
    const rev = (await ticketOf(store, ticket.id)).rev;
    await loop.desk.act(PATTI, { verb: 'desk.transfer', data: { ticketId: ticket.id, rev, transferTo: 'incident', severity: 'B', transferReason: 'Only one user is affected.' } });
    expect((await ticketOf(store, ticket.id)).sla.warnedAt).to.equal(undefined);
    await run(new Date('2026-11-23T21:00:00.000Z'));
    expect((await ids()).filter((i) => /:desk:(warn|escalate)/.test(i))).to.deep.equal([
      `${ticket.id}:desk:warn`,
      `${ticket.id}:desk:warn-2`,
      `${ticket.id}:desk:escalate`,
    ]);
    const t = await ticketOf(store, ticket.id);
    expect(t.timeline.filter((e) => e.type === 'warning')).to.have.length(2);
    expect(t.sla.escalatedAt).to.equal('2026-11-23T21:00:00.000Z');
  });

  it('brings the deadlines back when an unacknowledged ticket is reopened', async () => {
    const { ticket, store, loop, run, ids, scheduler } = await setup();
    await run(at(5));
    await loop.desk.act(PATTI, { verb: 'desk.resolve', data: { ticketId: ticket.id, rev: 0, resolution: 'Certificate renewed.' } });
    expect(await deadlinesIn(store)).to.deep.equal([]);
    expect(scheduler.pending).to.equal(0);
    await run(at(6));
    await loop.desk.act(PATTI, { verb: 'desk.reopen', data: { ticketId: ticket.id, rev: 1, reopenReason: 'Still failing.' } });
    expect((await deadlinesIn(store)).map((d) => d.kind)).to.deep.equal(['escalate', 'warn']);
    expect(scheduler.pending).to.equal(2);
    await run(at(30));
    expect((await ids()).filter((i) => /:desk:(warn|escalate)/.test(i))).to.deep.equal([`${ticket.id}:desk:warn`, `${ticket.id}:desk:escalate`]);
  });

  it('fires each deadline once when two schedulers tick it together', async () => {
    const { ticket, store, clock, directory } = await setup();
    const { logger, lines } = capturingLogger();
    const schedulers = [0, 1].map(() => {
      const desk = new DeskService({ store, directory, clock, logger });
      return new DeadlineScheduler({ store, clock, logger, timers: noTimers, handle: (d) => desk.onDeadline(d) });
    });
    await Promise.all(schedulers.map((s) => s.start()));
    clock.set(at(31));
    await Promise.all([schedulers[0]!.tick(), schedulers[1]!.tick(), schedulers[0]!.tick(), schedulers[1]!.tick()]);
    const ids = (await itemsOf(store, ticket.id)).map((i) => i.id);
    expect(ids.filter((i) => i.endsWith(':desk:escalate'))).to.have.length(1);
    expect(ids.filter((i) => i.endsWith(':escalated:reporter'))).to.have.length(1);
    expect(ids.filter((i) => i.endsWith(':desk:warn'))).to.have.length(1);
    const t = await ticketOf(store, ticket.id);
    expect(t.timeline.filter((e) => e.type === 'escalated')).to.have.length(1);
    expect(t.timeline.filter((e) => e.type === 'warning')).to.have.length(1);
    expect(await deadlinesIn(store)).to.deep.equal([]);
    // losing the race is normal, not a handler failure to retry
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).to.deep.equal([]);
    clock.set(at(40));
    await Promise.all(schedulers.map((s) => s.tick()));
    expect((await itemsOf(store, ticket.id)).map((i) => i.id)).to.deep.equal(ids);
  });

  it('handles one deadline once when onDeadline runs twice at once', async () => {
    const { ticket, store, clock, loop } = await setup();
    clock.set(at(30));
    const d: Deadline = deadlineOf(ticket.id, 'escalate', ticket.sla.dueAt);
    await Promise.all([loop.desk.onDeadline(d), loop.desk.onDeadline(d)]);
    const ids = (await itemsOf(store, ticket.id)).map((i) => i.id);
    expect(ids.filter((i) => i.endsWith(':desk:escalate'))).to.have.length(1);
    expect((await ticketOf(store, ticket.id)).timeline.filter((e) => e.type === 'escalated')).to.have.length(1);
  });

  it('does not fire a deadline early from a scheduler that still holds its old time', async () => {
    // Another instance's scheduler loaded the deadlines before the desk moved them (transfer).
    const { ticket, store, clock, directory, loop } = await setup();
    const stale = new DeadlineScheduler({
      store,
      clock,
      logger: silentLogger,
      timers: noTimers,
      handle: (d) => new DeskService({ store, directory, clock, logger: silentLogger }).onDeadline(d),
    });
    await stale.start();
    clock.set(at(5));
    await loop.desk.act(PATTI, { verb: 'desk.transfer', data: { ticketId: ticket.id, rev: 0, transferTo: 'incident', severity: 'B', transferReason: 'Only one user is affected.' } });
    clock.set(at(31));
    await stale.tick();
    const ids = (await itemsOf(store, ticket.id)).map((i) => i.id);
    expect(ids.filter((i) => /:desk:(warn|escalate)$/.test(i))).to.deep.equal([]);
    expect(await deadlinesIn(store)).to.have.length(2);
    // and it fires them at their new time
    clock.set(new Date('2026-11-23T21:00:00.000Z'));
    await stale.tick();
    await stale.tick();
    expect((await itemsOf(store, ticket.id)).map((i) => i.id).filter((i) => /:desk:(warn|escalate)$/.test(i))).to.deep.equal([
      `${ticket.id}:desk:warn`,
      `${ticket.id}:desk:escalate`,
    ]);
  });

  it('retries an escalation whose write failed, and escalates once', async () => {
    const faulty = new FaultyStore(new MemoryStore({ indexes: ALL_INDEXES }));
    const { ticket, run, ids } = await setup({ store: faulty });
    await run(at(29));
    faulty.failNextWrites(1);
    await run(at(30));
    expect(faulty.injectedFailures).to.equal(1);
    expect(await ids()).to.not.include(`${ticket.id}:desk:escalate`);
    expect((await deadlinesIn(faulty)).map((d) => d.kind)).to.deep.equal(['escalate']);
    await run(at(30, 5_000));
    expect((await ids()).filter((i) => i.endsWith(':desk:escalate'))).to.have.length(1);
    expect(await deadlinesIn(faulty)).to.deep.equal([]);
    expect((await ticketOf(faulty, ticket.id)).sla.escalatedAt).to.equal(at(30, 5_000).toISOString());
  });
});

describe('deadlines across a restart (lowdb)', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'deadlines-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  /** Opens the store and a scheduler wired to a fresh DeskService, as a process start does. */
  async function boot(clock: ManualClock) {
    const store = await openLowdbStore({ dir, indexes: ALL_INDEXES });
    const loop = wireLoop({ store, directory: deskDirectory(), clock });
    const scheduler = new DeadlineScheduler({ store, clock, logger: silentLogger, timers: noTimers, handle: (d) => loop.desk.onDeadline(d) });
    loop.desk.setHooks({ wakeOutbox: () => undefined, deadlinesChanged: (id, pending) => scheduler.track(id, pending) });
    await scheduler.start();
    return { store, loop, scheduler };
  }

  it('escalates an unacknowledged ticket once after a restart, and not again after another', async () => {
    const clock = new ManualClock(T0);
    const first = await boot(clock);
    const ticket = (await reportOutage(first.store, first.loop.outage, ALEX, ALEX_CHAT))!;
    expect(first.scheduler.pending).to.equal(2);
    await first.scheduler.stop();
    await first.store.close();

    clock.set(at(45)); // the process was down through both deadlines
    const second = await boot(clock);
    expect(second.scheduler.pending).to.equal(2);
    await second.scheduler.tick();
    const after = await itemsOf(second.store, ticket.id);
    expect(after.filter((i) => i.id === `${ticket.id}:desk:escalate`)).to.have.length(1);
    expect(after.filter((i) => i.id === `${ticket.id}:escalated:reporter`)).to.have.length(1);
    expect(after.filter((i) => i.op === 'reply' && i.id.endsWith(':desk:warn'))).to.have.length(1);
    const escalated = await ticketOf(second.store, ticket.id);
    expect(escalated.sla.escalatedAt).to.equal(at(45).toISOString());
    await second.scheduler.stop();
    await second.store.close();

    clock.set(at(90));
    const third = await boot(clock);
    expect(third.scheduler.pending).to.equal(0);
    await third.scheduler.tick();
    expect((await itemsOf(third.store, ticket.id)).map((i) => i.id)).to.deep.equal(after.map((i) => i.id));
    const t: Ticket = await ticketOf(third.store, ticket.id);
    expect(t.rev).to.equal(escalated.rev);
    expect(t.timeline.filter((e) => e.type === 'escalated')).to.have.length(1);
    await third.store.close();
  });

  it('keeps the deadline of a ticket acknowledged before the restart from escalating after it', async () => {
    const clock = new ManualClock(T0);
    const first = await boot(clock);
    const ticket = (await reportOutage(first.store, first.loop.outage, ALEX, ALEX_CHAT))!;
    clock.set(at(12));
    await first.loop.desk.act(PATTI, { verb: 'desk.acknowledge', data: { ticketId: ticket.id, rev: 0 } });
    await first.store.close();
    clock.set(at(40));
    const second = await boot(clock);
    await second.scheduler.tick();
    const ids = (await itemsOf(second.store, ticket.id)).map((i) => i.id);
    expect(ids.filter((i) => /:desk:(warn|escalate)$|escalated/.test(i))).to.deep.equal([]);
    expect(second.scheduler.pending).to.equal(0);
    expect(await deadlinesIn(second.store)).to.deep.equal([]);
    await second.store.close();
  });
});

describe('sla.dueAt: business hours across weekends and DST (America/Los_Angeles)', () => {
  const LA = 'America/Los_Angeles';
  const nineToFive: BusinessHours = { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };
  const bh = (hours: number): Target => ({ minutes: hours * 60, clock: 'business-hours' });
  const h24 = (hours: number): Target => ({ minutes: hours * 60, clock: '24x7' });
  const rows: { name: string; from: string; target: Target; due: string }[] = [
    { name: 'within one business day', from: '2026-11-23T17:00:00Z' /* Mon 9:00 PST */, target: bh(4), due: '2026-11-23T21:00:00.000Z' },
    { name: 'before opening: starts at 9:00', from: '2026-11-23T15:00:00Z' /* Mon 7:00 PST */, target: bh(4), due: '2026-11-23T21:00:00.000Z' },
    { name: 'past closing: continues next morning', from: '2026-11-24T00:00:00Z' /* Mon 16:00 PST */, target: bh(2), due: '2026-11-24T18:00:00.000Z' },
    { name: 'Friday afternoon to Monday (a plain weekend)', from: '2026-11-28T00:00:00Z' /* Fri 27 16:00 PST */, target: bh(4), due: '2026-11-30T20:00:00.000Z' },
    { name: 'submitted on Saturday: Monday opening + 8 hours', from: '2026-11-28T20:00:00Z' /* Sat 12:00 PST */, target: bh(8), due: '2026-12-01T01:00:00.000Z' },
    // DST starts Sunday 2026-03-08 at 2:00 AM: Friday is PST (UTC−8), Monday PDT (UTC−7)
    { name: 'across the spring-forward weekend (PST Friday, PDT Monday)', from: '2026-03-07T00:00:00Z' /* Fri 6 16:00 PST */, target: bh(4), due: '2026-03-09T19:00:00.000Z' /* Mon 12:00 PDT */ },
    { name: 'from Saturday over the spring-forward Sunday', from: '2026-03-07T18:00:00Z' /* Sat 10:00 PST */, target: bh(1), due: '2026-03-09T17:00:00.000Z' /* Mon 10:00 PDT */ },
    // DST ends Sunday 2026-11-01 at 2:00 AM: Friday is PDT, Monday PST
    { name: 'across the fall-back weekend (PDT Friday, PST Monday)', from: '2026-10-30T23:00:00Z' /* Fri 16:00 PDT */, target: bh(8), due: '2026-11-03T00:00:00.000Z' /* Mon 16:00 PST */ },
    { name: 'from Sunday of the fall-back weekend', from: '2026-11-01T09:30:00Z' /* Sun 1:30 AM PST (second time) */, target: bh(1), due: '2026-11-02T18:00:00.000Z' /* Mon 10:00 PST */ },
    { name: '24x7 counts elapsed time through the spring-forward hour', from: '2026-03-08T09:30:00Z' /* 1:30 AM PST */, target: h24(1), due: '2026-03-08T10:30:00.000Z' /* 3:30 AM PDT */ },
    { name: '24x7 counts elapsed time through the fall-back hour', from: '2026-11-01T08:30:00Z' /* 1:30 AM PDT */, target: h24(1), due: '2026-11-01T09:30:00.000Z' /* 1:30 AM PST */ },
  ];
  for (const row of rows)
    it(`${row.name}`, () => {
      expect(dueAt(new Date(row.from), row.target, LA, nineToFive).toISOString()).to.equal(row.due);
    });
});

// The dispatcher: delivers pending outbox items at least once, in order per conversation, within
// Teams' rate limits, retrying transient failures and recording permanent ones.
//
// One instance per store (the lowdb store is single-process anyway): it is the only writer of an
// item once enqueued. Every item change is one store write with ifMatch on the item's eTag.

import type { Logger } from '../logger.js';
import { ConflictError, type Store, type StoredDoc, type WriteOp } from '../store/store.js';
import type { Clock } from '../time.js';
import { DeliveryError, toDeliveryError, type Notifier } from './notifier.js';
import { MinHeap } from '../minHeap.js';
import {
  backoffMs,
  compareSeq,
  OUTBOX_COLLECTION,
  OutboxItem,
  type RenderedPayload,
  type SendableItem,
  type SendablePayload,
  storedForm,
  type StoredOutboxItem,
} from './outboxItem.js';
import { SlidingWindowLimiter, TEAMS_CONVERSATION_LIMITS, type RateWindow } from './rateLimit.js';
import { systemTimers, type TimerHandle, type Timers } from './timers.js';

export interface OutboxPolicy {
  /** Attempts before a transiently failing item is given up (default 12: about 14 minutes). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-conversation send limits (default Teams': 7 per second, 60 per 30 seconds). */
  perConversation: RateWindow[];
  /** Sends in flight across all conversations. */
  maxConcurrentSends: number;
  /** A send that has not settled by then counts as a transient failure (it may still arrive). */
  sendTimeoutMs: number;
  /** Re-reads the pending index this often, for items enqueued without wake(). */
  pollIntervalMs: number;
  /** First wait before re-recording an outcome the store refused (doubles up to maxDelayMs). */
  storeRetryMs: number;
}

export const DEFAULT_OUTBOX_POLICY: OutboxPolicy = {
  maxAttempts: 12,
  baseDelayMs: 500,
  maxDelayMs: 5 * 60_000,
  perConversation: TEAMS_CONVERSATION_LIMITS,
  maxConcurrentSends: 16,
  sendTimeoutMs: 60_000,
  pollIntervalMs: 15_000,
  storeRetryMs: 1_000,
};

/** Extra writes for the batch that settles an item (e.g. the ticket's timeline, a desk warning). */
export type SettleHook<A> = (item: OutboxItem, arg: A) => WriteOp[] | Promise<WriteOp[]>;

export interface OutboxDeps {
  store: Store;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  /**
   * Written with the item marked sent (e.g. a record of where a message landed, on another
   * document). The hook sees the item whole; the store keeps it without its payload.
   */
  onSent?: SettleHook<{ activityId?: string }>;
  /**
   * Written with the item marked failed, e.g. a timeline entry and a warning to the desk (enqueued
   * with enqueueOps). Never enqueue a warning about a warning that failed: it would loop.
   */
  onPermanentFailure?: SettleHook<DeliveryError>;
  /**
   * Renders a payload that names what to show (a ticket's desk card) as it is when the item is
   * sent. Undefined: there is nothing to show (no such ticket), which fails the item for good; a
   * rejection (the store could not be read) tries it again after policy.storeRetryMs.
   */
  render?: (payload: RenderedPayload) => Promise<SendablePayload | undefined>;
  policy?: Partial<OutboxPolicy>;
  timers?: Timers;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

type Outcome =
  | { kind: 'sent'; activityId?: string; at: string }
  | { kind: 'superseded'; by: string; at: string }
  | { kind: 'failed'; error: DeliveryError; at: string }
  | { kind: 'retry'; error: DeliveryError; nextAttemptAt: string };

interface Entry {
  doc: StoredDoc<OutboxItem>;
  /** Delivered or given up, but the store refused the record: record again before anything else. */
  unrecorded?: { outcome: Outcome; retryAt: number; failures: number };
  /** Waits for this item (threadOf / activityOf) to be delivered first. */
  blockedOn?: string;
  /** Memory-only hold (ms) after the store could not be read for this item. */
  notBefore?: number;
  /** The last refresh that found the item pending in the store. */
  listed?: number;
}

/** One conversation's pending items and its place in the schedule. */
interface Conversation {
  id: string;
  /** Its entries by seq: only the head can be due. */
  queue: Entry[];
  /** Bumped whenever its schedule changes: slots of an older version are stale. */
  version: number;
  /** A slot of the current version is in the schedule. */
  scheduled: boolean;
  /** The item its head waits for, as registered in `waiters`. */
  waitingOn?: string;
}

/** A conversation's head falls due `at` (ms); valid while the conversation keeps `version`. */
interface Slot {
  at: number;
  head: OutboxItem;
  conv: Conversation;
  version: number;
}

/** Earlier first; among heads due at the same time, the older (by seq). */
function slotBefore(a: Slot, b: Slot): boolean {
  return a.at !== b.at ? a.at < b.at : compareSeq(a.head, b.head) < 0;
}

const HOOK_CONFLICT_RETRIES = 5;

/** Delivers the outbox. start() after the store opens; stop() before it closes. */
export class Outbox {
  private readonly policy: OutboxPolicy;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly limiter: SlidingWindowLimiter;

  private readonly entries = new Map<string, Entry>(); // pending items by id
  // The same entries, per conversation, by seq: the head of each is found without a pass over the
  // whole backlog (a rate-limited desk channel can hold thousands), after every send and wake.
  private readonly queues = new Map<string, Conversation>();
  // When each free conversation's head falls due, recomputed only when something about that
  // conversation changes: a pump (after every send) then costs O(log n) per conversation it
  // starts, not a pass over hundreds of conversations waiting on a rate limit, a retry or a thread.
  // Slots are invalidated lazily (by version) and dropped when they reach the top.
  private readonly schedule = new MinHeap<Slot>(slotBefore);
  private scheduledCount = 0; // conversations with a valid slot: the rest of the heap is stale
  // Awaited item id -> conversations whose head waits for it (threadOf / activityOf).
  private readonly waiters = new Map<string, Set<string>>();
  private readonly busy = new Set<string>(); // conversations with a send or record in flight
  private readonly inFlight = new Set<Promise<void>>();
  // Guards refresh() against snapshots older than our own writes: id -> write tick.
  private readonly writtenAt = new Map<string, number>();
  private tick = 0;
  private refreshes = 0;

  private started = false;
  private stopped = false;
  private dirty = false;
  /** Items named by wake(ids) since the last pump: read alone, unless a full refresh is due. */
  private readonly touched = new Set<string>();
  /** Items handed over by wake(docs) since the last pump, as their writer wrote them. */
  private readonly handed = new Map<string, StoredDoc<OutboxItem>>();
  private pumpQueued = false;
  private pumping = false;
  private pumpAgain = false;
  private timer?: TimerHandle;
  private timerAt = Infinity;
  private lastRefreshAt = -Infinity;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: OutboxDeps) {
    this.policy = { ...DEFAULT_OUTBOX_POLICY, ...deps.policy };
    this.timers = deps.timers ?? systemTimers;
    this.random = deps.random ?? Math.random;
    this.log = deps.logger.child({ module: 'outbox' });
    this.limiter = new SlidingWindowLimiter(this.policy.perConversation);
  }

  /** Loads the pending items (so a restart resumes) and starts delivering. */
  async start(): Promise<void> {
    if (this.started) throw new Error('Outbox already started');
    this.started = true;
    await this.refresh();
    this.log.info({ pending: this.entries.size }, 'outbox started');
    this.kick();
  }

  /**
   * Call after a write that enqueued items: delivery starts now, not at the next poll. With the
   * items as written (enqueuedDocs(ops, eTags)), they are taken as they are; with their ids
   * (enqueuedIds(ops)), only those are read; without, every pending item is listed again, which
   * costs O(backlog) when a rate-limited channel has thousands waiting.
   */
  wake(items?: readonly (string | StoredDoc<OutboxItem>)[]): void {
    if (!this.started || this.stopped) return;
    if (!items) this.dirty = true;
    else
      for (const item of items) {
        if (typeof item === 'string') this.touched.add(item);
        else this.handed.set(item.id, item);
      }
    this.kick();
  }

  /** Takes no new work and waits for sends (and their records) in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    while (this.inFlight.size > 0 || this.pumping) {
      await Promise.all([...this.inFlight]);
      if (this.pumping) await new Promise<void>((r) => this.idleWaiters.push(r));
    }
    this.resolveIdle();
  }

  /** Resolves once nothing is in flight and nothing pending is due now (the rest waits). */
  idle(): Promise<void> {
    if (this.quiescent()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Pending items known to this dispatcher. */
  get pendingCount(): number {
    return this.entries.size;
  }

  private quiescent(): boolean {
    return !this.pumpQueued && !this.pumping && this.inFlight.size === 0;
  }

  private resolveIdle(): void {
    if (!this.quiescent() && !this.stopped) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => void this.runPump());
  }

  private async runPump(): Promise<void> {
    this.pumpQueued = false;
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        if (this.dirty) {
          this.dirty = false;
          this.touched.clear();
          this.handed.clear();
          await this.refresh();
        } else {
          if (this.handed.size > 0) this.takeHanded();
          if (this.touched.size > 0) {
            const ids = [...this.touched];
            this.touched.clear();
            await this.refreshItems(ids);
          }
        }
        if (!this.stopped) this.dispatch();
      } while (this.pumpAgain && !this.stopped);
    } catch (err) {
      // refresh() failed (store unavailable): the poll timer set below tries again.
      this.dirty = true;
      this.log.error({ err }, 'outbox could not read pending items');
    } finally {
      this.pumping = false;
      if (!this.stopped) this.armTimer();
      this.resolveIdle();
    }
  }

  /** Replaces the in-memory view with the store's pending items, keeping our newer versions. */
  private async refresh(): Promise<void> {
    // Writes of ours that finished after the read began (tick > since) may not be in the snapshot.
    // Those that finished before it are: a later change by someone else is not hidden by them.
    const since = this.tick;
    const ours = (id: string) => (this.writtenAt.get(id) ?? -1) > since;
    const pass = ++this.refreshes;
    this.lastRefreshAt = this.deps.clock.now().getTime();
    for (const raw of await this.changedPendingDocs(pass)) {
      const known = this.entries.get(raw.id);
      if (known) known.listed = pass;
      if (ours(raw.id)) continue;
      if (known && this.inFlightItem(raw.id)) continue;
      if (known?.doc.eTag === raw.eTag) continue; // unchanged: nothing to parse
      const parsed = OutboxItem.safeParse(raw.value);
      if (!parsed.success) {
        await this.quarantine(raw, parsed.error.message);
        continue;
      }
      if (parsed.data.status !== 'pending') continue;
      this.track({ doc: { id: raw.id, eTag: raw.eTag, value: parsed.data }, listed: pass });
    }
    for (const [id, entry] of this.entries) {
      if (entry.listed === pass || this.inFlightItem(id) || ours(id)) continue;
      this.untrack(id); // settled (or removed) by someone else
    }
    for (const [id, t] of this.writtenAt) if (t <= since) this.writtenAt.delete(id);
  }

  /**
   * Tracks the items handed over by wake(docs). Each is the first version of a new item (created
   * with ifMatch 'absent'), written before the wake and taken at the next pump, so whatever this
   * dispatcher knows of it is the same version or newer: an item already tracked, in flight, or
   * written by us since (settled) is left as it is.
   */
  private takeHanded(): void {
    for (const doc of this.handed.values()) {
      if (this.entries.has(doc.id) || this.writtenAt.has(doc.id) || this.inFlightItem(doc.id))
        continue;
      if (doc.value.status !== 'pending') continue;
      this.track({ doc, listed: undefined });
    }
    this.handed.clear();
  }

  /** Reads just these items (a wake that named them), as refresh() would treat each. */
  private async refreshItems(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const since = this.tick;
      const raw = await this.deps.store.get<unknown>(OUTBOX_COLLECTION, id);
      // A write of ours that finished after the read began is newer than what was read.
      if ((this.writtenAt.get(id) ?? -1) > since || this.inFlightItem(id)) continue;
      const known = this.entries.get(id);
      const status = (raw?.value as { status?: unknown } | null | undefined)?.status;
      if (!raw || status !== 'pending') {
        if (known) this.untrack(id); // settled (or removed) by someone else
        continue;
      }
      if (known?.doc.eTag === raw.eTag) continue;
      const parsed = OutboxItem.safeParse(raw.value);
      if (!parsed.success) {
        await this.quarantine(raw, parsed.error.message);
        continue;
      }
      this.track({ doc: { id, eTag: raw.eTag, value: parsed.data }, listed: known?.listed });
    }
  }

  /**
   * The pending items, except those held here unchanged (marked `listed` in this pass instead).
   * With a store that can list eTags, only new or changed items are read: with a backlog (a
   * rate-limited desk channel, a Teams outage) re-reading and parsing every pending item on every
   * wake made each enqueue cost O(backlog) and the turns that enqueue slow down.
   */
  private async changedPendingDocs(pass: number): Promise<StoredDoc<unknown>[]> {
    const { store } = this.deps;
    if (!store.findETags) return store.find<unknown>(OUTBOX_COLLECTION, 'pending', 'pending');
    const docs: StoredDoc<unknown>[] = [];
    for (const { id, eTag } of await store.findETags(OUTBOX_COLLECTION, 'pending', 'pending')) {
      const known = this.entries.get(id);
      if (known?.doc.eTag === eTag) {
        known.listed = pass;
        continue;
      }
      const doc = await store.get<unknown>(OUTBOX_COLLECTION, id);
      // As find() does: only what is still pending (it may have settled since the listing).
      const status = (doc?.value as { status?: unknown } | null | undefined)?.status;
      if (doc && status === 'pending') docs.push(doc);
    }
    return docs;
  }

  private inFlightItem(id: string): boolean {
    const entry = this.entries.get(id);
    return entry !== undefined && this.busy.has(entry.doc.value.conversationId);
  }

  /** A stored item this code cannot read: mark it failed so it is visible and never blocks. */
  private async quarantine(raw: StoredDoc<unknown>, reason: string): Promise<void> {
    this.log.error({ itemId: raw.id, reason }, 'outbox item is invalid; marked failed');
    const value = {
      ...(raw.value as object),
      status: 'failed',
      lastError: `invalid item: ${reason}`,
    };
    try {
      await this.deps.store.write([
        { op: 'put', collection: OUTBOX_COLLECTION, id: raw.id, value, ifMatch: raw.eTag },
      ]);
    } catch (err) {
      this.log.error({ err, itemId: raw.id }, 'could not mark invalid outbox item failed');
    }
  }

  /** Adds a pending item (or replaces the one with its id) to `entries` and its queue. */
  private track(entry: Entry): void {
    const old = this.entries.get(entry.doc.id);
    if (old) this.unqueue(old);
    this.entries.set(entry.doc.id, entry);
    this.enqueue(entry);
  }

  private untrack(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.unqueue(entry);
    // Settled (here or elsewhere) or gone: the items waiting for it (threadOf / activityOf) can go.
    const waiting = this.waiters.get(id);
    if (!waiting) return;
    this.waiters.delete(id);
    for (const convId of waiting) {
      const conv = this.queues.get(convId);
      if (!conv) continue;
      conv.waitingOn = undefined;
      this.reschedule(conv);
    }
  }

  /** A new version of an item: it moves in its queue only if its conversation or seq changed. */
  private setDoc(entry: Entry, doc: StoredDoc<OutboxItem>): void {
    const { conversationId, seq } = entry.doc.value;
    const moved = conversationId !== doc.value.conversationId || seq !== doc.value.seq;
    const requeue = moved && this.entries.get(doc.id) === entry;
    if (requeue) this.unqueue(entry);
    entry.doc = doc;
    if (requeue) this.enqueue(entry);
    else {
      const conv = this.queues.get(doc.value.conversationId);
      if (conv?.queue[0] === entry) this.reschedule(conv); // its due time may have moved
    }
  }

  private enqueue(entry: Entry): void {
    const id = entry.doc.value.conversationId;
    const conv = this.queues.get(id);
    if (!conv) {
      const created: Conversation = { id, queue: [entry], version: 0, scheduled: false };
      this.queues.set(id, created);
      this.reschedule(created);
      return;
    }
    // Items mostly arrive in seq order: the common case is an append.
    const { queue } = conv;
    const last = queue[queue.length - 1]!;
    if (compareSeq(last.doc.value, entry.doc.value) < 0) queue.push(entry);
    else {
      const i = seqIndex(queue, entry.doc.value);
      queue.splice(i, 0, entry);
      if (i === 0) this.reschedule(conv); // a new head
    }
  }

  private unqueue(entry: Entry): void {
    const conv = this.queues.get(entry.doc.value.conversationId);
    if (!conv) return;
    const { queue } = conv;
    let i = seqIndex(queue, entry.doc.value);
    if (queue[i] !== entry) i = queue.indexOf(entry);
    if (i < 0) return;
    queue.splice(i, 1);
    if (queue.length === 0) {
      this.queues.delete(conv.id);
      this.unschedule(conv);
      this.waitFor(conv, undefined);
    } else if (i === 0) this.reschedule(conv); // a new head
  }

  /** Drops the conversation's slot (if any) from the schedule: lazily, by a new version. */
  private unschedule(conv: Conversation): void {
    conv.version += 1;
    if (conv.scheduled) {
      conv.scheduled = false;
      this.scheduledCount -= 1;
    }
  }

  /**
   * Places the conversation in the schedule at the time its head falls due, or leaves it out while
   * a send or record is in flight (rescheduled when it settles) or its head waits for another item
   * (rescheduled when that one settles). Call whenever its head or the head's state changes.
   */
  private reschedule(conv: Conversation): void {
    this.unschedule(conv);
    const head = conv.queue[0];
    if (!head || this.busy.has(conv.id)) {
      this.waitFor(conv, undefined);
      return;
    }
    let at: number;
    if (head.unrecorded) {
      this.waitFor(conv, undefined);
      at = head.unrecorded.retryAt;
    } else {
      if (head.blockedOn && !this.entries.has(head.blockedOn)) head.blockedOn = undefined;
      this.waitFor(conv, head.blockedOn);
      if (head.blockedOn) return; // woken by untrack() when it settles
      at = this.dueAt(conv.id, head);
    }
    conv.scheduled = true;
    this.scheduledCount += 1;
    this.schedule.push({ at, head: head.doc.value, conv, version: conv.version });
    // Stale slots of conversations rescheduled far ahead would pile up: sweep them once they
    // outnumber the valid ones (amortized O(1) per push).
    if (this.schedule.size > 2 * this.scheduledCount + 64)
      this.schedule.retain((slot) => slot.version === slot.conv.version);
  }

  /** Registers the conversation as waiting for item `id` (or for nothing). */
  private waitFor(conv: Conversation, id: string | undefined): void {
    if (conv.waitingOn === id) return;
    if (conv.waitingOn !== undefined) {
      const waiting = this.waiters.get(conv.waitingOn);
      waiting?.delete(conv.id);
      if (waiting?.size === 0) this.waiters.delete(conv.waitingOn);
    }
    conv.waitingOn = id;
    if (id === undefined) return;
    const waiting = this.waiters.get(id);
    if (waiting) waiting.add(conv.id);
    else this.waiters.set(id, new Set([conv.id]));
  }

  /** The schedule's earliest valid slot, stale ones dropped on the way. */
  private nextSlot(): Slot | undefined {
    for (let slot = this.schedule.peek(); slot; slot = this.schedule.peek()) {
      if (slot.version === slot.conv.version) return slot;
      this.schedule.pop();
    }
    return undefined;
  }

  /** Starts the heads that are due, earliest first, while send slots are free. */
  private dispatch(): void {
    const now = this.deps.clock.now().getTime();
    while (this.inFlight.size < this.policy.maxConcurrentSends) {
      const slot = this.nextSlot();
      if (!slot || slot.at > now) break;
      this.schedule.pop();
      const { conv } = slot;
      conv.scheduled = false;
      this.scheduledCount -= 1;
      const head = conv.queue[0]!;
      if (head.unrecorded) {
        const { outcome } = head.unrecorded;
        this.run(conv.id, () => this.record(head, outcome));
      } else this.run(conv.id, () => this.attempt(head));
    }
  }

  /**
   * When a free head falls due: after its nextAttemptAt and notBefore, and once the rate limit lets
   * its conversation send. The limiter's answer holds until the conversation sends again, which
   * only happens after it is rescheduled.
   */
  private dueAt(conv: string, head: Entry): number {
    const now = this.deps.clock.now().getTime();
    const scheduled = Math.max(Date.parse(head.doc.value.nextAttemptAt), head.notBefore ?? 0);
    const free = this.limiter.freeAt(conv, now);
    // Free now: no later time is limited either, and the older due time keeps the order by age.
    return free > now ? Math.max(scheduled, free) : scheduled;
  }

  /** A timer for the earliest time a waiting head becomes due, or the next poll. */
  private armTimer(): void {
    const now = this.deps.clock.now().getTime();
    const pollAt = this.lastRefreshAt + this.policy.pollIntervalMs;
    let next = Math.max(now, pollAt);
    // While every send slot is taken, a finishing send kicks a pump: only the poll needs a timer.
    if (this.inFlight.size < this.policy.maxConcurrentSends) {
      const slot = this.nextSlot();
      if (slot) next = Math.min(next, Math.max(slot.at, now));
    }
    if (this.timer && this.timerAt === next) return;
    this.clearTimer();
    this.timerAt = next;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      if (this.deps.clock.now().getTime() >= this.lastRefreshAt + this.policy.pollIntervalMs)
        this.dirty = true;
      this.kick();
    }, next - now);
  }

  private clearTimer(): void {
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private run(conv: string, task: () => Promise<void>): void {
    this.busy.add(conv);
    const p: Promise<void> = task()
      .catch((err) => this.log.error({ err, conversationId: conv }, 'outbox task failed'))
      .finally(() => {
        this.busy.delete(conv);
        this.inFlight.delete(p);
        // Its head may have changed, been blocked, or been sent (and the rate limit moved).
        const queued = this.queues.get(conv);
        if (queued) this.reschedule(queued);
        this.kick();
        this.resolveIdle();
      });
    this.inFlight.add(p);
  }

  /** One delivery attempt of a conversation's head, then its outcome recorded. */
  private async attempt(entry: Entry): Promise<void> {
    const item = entry.doc.value;
    const later = this.laterUpdateOfSameCard(item);
    if (later) {
      await this.record(entry, { kind: 'superseded', by: later, at: this.nowIso() });
      return;
    }
    let resolved: SendableItem | DeliveryError | 'blocked';
    try {
      const targeted = await this.resolveTarget(entry);
      resolved =
        targeted === 'blocked' || targeted instanceof DeliveryError
          ? targeted
          : await this.render(targeted);
    } catch (err) {
      this.log.error({ err, itemId: item.id }, 'outbox could not read what an item refers to');
      entry.notBefore = this.deps.clock.now().getTime() + this.policy.storeRetryMs;
      return;
    }
    if (resolved === 'blocked') return;
    if (resolved instanceof DeliveryError) {
      await this.record(entry, { kind: 'failed', error: resolved, at: this.nowIso() });
      return;
    }
    let outcome: Outcome;
    try {
      const result = await this.withTimeout((signal) => this.deps.notifier.send(resolved, signal));
      outcome = { kind: 'sent', activityId: result.activityId, at: this.nowIso() };
    } catch (err) {
      outcome = this.failure(item, toDeliveryError(err, this.deps.clock.now()));
    }
    // Counted when the send settles, not when it starts: the service saw it at some point in
    // between, and the next send of this conversation starts later still, so however long the
    // request took, the service never sees more than the limit in any window.
    this.limiter.record(item.conversationId, this.deps.clock.now().getTime());
    await this.record(entry, outcome);
  }

  private failure(item: OutboxItem, error: DeliveryError): Outcome {
    const attempts = item.attempts + 1;
    if (error.permanent) return { kind: 'failed', error, at: this.nowIso() };
    if (attempts >= this.policy.maxAttempts) {
      const gaveUp = new DeliveryError(`gave up after ${attempts} attempts: ${error.message}`, {
        status: error.status,
        permanent: true,
        cause: error,
      });
      return { kind: 'failed', error: gaveUp, at: this.nowIso() };
    }
    // Retry-After is the service's own word: wait exactly that, not a jittered guess.
    const delay = error.retryAfterMs ?? backoffMs(attempts, this.policy, this.random);
    const nextAttemptAt = new Date(this.deps.clock.now().getTime() + delay).toISOString();
    return { kind: 'retry', error, nextAttemptAt };
  }

  /** Fills in threadId / activityId from the item named by threadOf / activityOf. */
  private async resolveTarget(entry: Entry): Promise<OutboxItem | DeliveryError | 'blocked'> {
    const item = entry.doc.value;
    const { threadOf, activityOf } = item.target;
    const target = { ...item.target };
    for (const [ref, field] of [
      [threadOf, 'threadId'],
      [activityOf, 'activityId'],
    ] as const) {
      if (!ref || target[field]) continue;
      // A sent item is stored without its payload: only its status and activity id are read.
      const doc = await this.deps.store.get<StoredOutboxItem>(OUTBOX_COLLECTION, ref);
      if (!doc)
        return new DeliveryError(`referenced outbox item ${ref} does not exist`, {
          permanent: true,
        });
      if (doc.value.status === 'failed')
        return new DeliveryError(`referenced message ${ref} was never delivered`, {
          permanent: true,
        });
      if (doc.value.status === 'pending') {
        // Known: woken when it settles. Not loaded yet: look again after a refresh and a pause.
        if (this.entries.has(ref)) entry.blockedOn = ref;
        else {
          entry.notBefore = this.deps.clock.now().getTime() + this.policy.baseDelayMs;
          this.dirty = true;
        }
        return 'blocked';
      }
      if (!doc.value.sentActivityId)
        return new DeliveryError(`referenced message ${ref} has no activity id`, {
          permanent: true,
        });
      target[field] = doc.value.sentActivityId;
    }
    return { ...item, target };
  }

  /**
   * For an update of a desk card named by its ticket: a later update of the same card waiting in
   * the same conversation, if there is one. That one renders the ticket as it is when it goes, so
   * sending this one too would spend one of the conversation's sends (Teams: 60 per 30 s) on a
   * state the card leaves at once. Only items this outbox holds are seen; others are just sent.
   */
  private laterUpdateOfSameCard(item: OutboxItem): string | undefined {
    const { payload, target } = item;
    if (item.op !== 'update' || payload.kind !== 'deskCard') return undefined;
    const queue = this.queues.get(item.conversationId)?.queue ?? [];
    for (let i = seqIndex(queue, item) + 1; i < queue.length; i++) {
      const other = queue[i]!.doc.value;
      if (
        other.op === 'update' &&
        other.payload.kind === 'deskCard' &&
        other.payload.ticketId === payload.ticketId &&
        other.target.activityOf === target.activityOf &&
        other.target.activityId === target.activityId
      )
        return other.id;
    }
    return undefined;
  }

  /** The item with a payload that names a card (a ticket's desk card) rendered as it is now. */
  private async render(item: OutboxItem): Promise<SendableItem | DeliveryError> {
    const { payload } = item;
    if (payload.kind !== 'deskCard') return { ...item, payload };
    const rendered = this.deps.render ? await this.deps.render(payload) : undefined;
    if (!rendered)
      return new DeliveryError(`nothing to show for ${payload.kind} ${payload.ticketId}`, {
        permanent: true,
      });
    return { ...item, payload: rendered };
  }

  /** Runs a send, failing it (and aborting its request) after sendTimeoutMs without an answer. */
  private withTimeout<T>(send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const p = send(controller.signal);
    return new Promise<T>((resolve, reject) => {
      const t = this.timers.setTimeout(() => {
        const error = new DeliveryError(`no answer in ${this.policy.sendTimeoutMs} ms`, { permanent: false });
        controller.abort(error);
        reject(error);
      }, this.policy.sendTimeoutMs);
      p.then(
        (v) => {
          this.timers.clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          this.timers.clearTimeout(t);
          reject(e);
        },
      );
    });
  }

  /** Writes the outcome with ifMatch on the item; a settle writes its hook's ops in the same batch. */
  private async record(entry: Entry, outcome: Outcome): Promise<void> {
    const { store } = this.deps;
    for (let tries = 0; ; tries++) {
      const item = entry.doc.value;
      const next = applyOutcome(item, outcome);
      // A hook whose writes keep conflicting must not keep the item unrecorded (and resent).
      const hookOps = tries < HOOK_CONFLICT_RETRIES ? await this.hookOps(next, outcome) : [];
      if (tries === HOOK_CONFLICT_RETRIES && outcome.kind !== 'retry')
        this.log.error(
          { itemId: item.id },
          'outbox settle hook kept conflicting; recording without its writes',
        );
      const ops: WriteOp[] = [
        {
          op: 'put',
          collection: OUTBOX_COLLECTION,
          id: item.id,
          value: storedForm(next),
          ifMatch: entry.doc.eTag,
        },
        ...hookOps,
      ];
      try {
        const [eTag] = await store.write(ops);
        this.writtenAt.set(item.id, ++this.tick);
        // A hook may enqueue messages (a warning to the desk): pick them up at once.
        if (hookOps.some((op) => op.collection === OUTBOX_COLLECTION)) this.dirty = true;
        this.settled(entry, { id: item.id, value: next, eTag: eTag! }, outcome);
        return;
      } catch (err) {
        if (err instanceof ConflictError && tries < HOOK_CONFLICT_RETRIES + 1) {
          if (err.collection === OUTBOX_COLLECTION && err.id === item.id) {
            const fresh = await store.get<OutboxItem>(OUTBOX_COLLECTION, item.id);
            if (!fresh || fresh.value.status !== 'pending') {
              this.log.warn({ itemId: item.id }, 'outbox item changed by someone else; left as is');
              this.untrack(item.id);
              return;
            }
            this.setDoc(entry, fresh);
          }
          continue; // a hook's op was stale: the hook reads again
        }
        this.unrecorded(entry, outcome, err);
        return;
      }
    }
  }

  private async hookOps(item: OutboxItem, outcome: Outcome): Promise<WriteOp[]> {
    try {
      if (outcome.kind === 'sent' && this.deps.onSent)
        return await this.deps.onSent(item, { activityId: outcome.activityId });
      if (outcome.kind === 'failed' && this.deps.onPermanentFailure)
        return await this.deps.onPermanentFailure(item, outcome.error);
    } catch (err) {
      // The item is still recorded (failed items stay findable by the `failed` index).
      this.log.error(
        { err, itemId: item.id },
        'outbox settle hook threw; recording without its writes',
      );
    }
    return [];
  }

  private settled(entry: Entry, doc: StoredDoc<OutboxItem>, outcome: Outcome): void {
    const item = doc.value;
    const log = { itemId: item.id, conversationId: item.conversationId, attempts: item.attempts };
    if (outcome.kind === 'retry') {
      this.setDoc(entry, doc);
      entry.unrecorded = undefined;
      this.log.warn(
        {
          ...log,
          status: outcome.error.status,
          retryAt: item.nextAttemptAt,
          err: outcome.error.message,
        },
        'outbox send failed; will retry',
      );
      return;
    }
    this.untrack(item.id);
    if (outcome.kind === 'sent')
      this.log.debug({ ...log, activityId: item.sentActivityId }, 'outbox item sent');
    else if (outcome.kind === 'superseded')
      this.log.debug({ ...log, supersededBy: outcome.by }, 'outbox update left to a later one');
    else
      this.log.error(
        { ...log, status: outcome.error.status, err: outcome.error.message },
        'outbox item failed permanently',
      );
  }

  /** The store refused the record. A retry only lives in memory; a settle blocks the conversation
   * until recorded, so a restart cannot resend it after later items. */
  private unrecorded(entry: Entry, outcome: Outcome, err: unknown): void {
    const item = entry.doc.value;
    this.log.error(
      { err, itemId: item.id, outcome: outcome.kind },
      'outbox could not record a delivery outcome',
    );
    if (outcome.kind === 'retry') {
      this.setDoc(entry, { ...entry.doc, value: applyOutcome(item, outcome) });
      return;
    }
    const failures = (entry.unrecorded?.failures ?? 0) + 1;
    const wait = Math.min(this.policy.maxDelayMs, this.policy.storeRetryMs * 2 ** (failures - 1));
    entry.unrecorded = { outcome, retryAt: this.deps.clock.now().getTime() + wait, failures };
  }

  private nowIso(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** Where `item` is, or would go, in a queue sorted by seq (binary search). */
function seqIndex(queue: Entry[], item: OutboxItem): number {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareSeq(queue[mid]!.doc.value, item) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function applyOutcome(item: OutboxItem, outcome: Outcome): OutboxItem {
  const attempts = item.attempts + 1;
  switch (outcome.kind) {
    case 'sent':
      return {
        ...item,
        status: 'sent',
        attempts,
        sentAt: outcome.at,
        sentActivityId: outcome.activityId,
        lastError: undefined,
      };
    case 'superseded':
      return {
        ...item,
        status: 'sent',
        sentAt: outcome.at,
        supersededBy: outcome.by,
        lastError: undefined,
      };
    case 'failed':
      return { ...item, status: 'failed', attempts, lastError: outcome.error.message };
    case 'retry':
      return {
        ...item,
        attempts,
        nextAttemptAt: outcome.nextAttemptAt,
        lastError: outcome.error.message,
      };
  }
}

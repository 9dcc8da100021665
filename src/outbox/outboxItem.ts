// An outbox item: one proactive message (post, thread reply or card update) waiting to be
// delivered. Items are written in the same store batch as the state change that causes them, so a
// crash can never keep the change and lose its message (or the reverse).

import { z } from 'zod';
import type { IndexSpec, PackSpec, StoredDoc, WriteOp } from '../store/store.js';

export const OUTBOX_COLLECTION = 'outbox';

/** Where the message goes. `threadOf` / `activityOf` name an earlier outbox item whose delivered
 * activity is the thread to reply in / the message to update, for when that id is not known yet. */
export const OutboxTarget = z.object({
  conversationId: z.string().min(1),
  threadId: z.string().min(1).optional(),
  activityId: z.string().min(1).optional(),
  threadOf: z.string().min(1).optional(),
  activityOf: z.string().min(1).optional(),
});
export type OutboxTarget = z.infer<typeof OutboxTarget>;

const CardPayload = z.object({
  kind: z.literal('card'),
  card: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
});
const TextPayload = z.object({
  kind: z.literal('text'),
  text: z.string().min(1),
  /** People `<at>name</at>`-mentioned in text: the notifier adds a mention entity for each. */
  mentions: z.array(z.object({ id: z.string().min(1), name: z.string().min(1) })).optional(),
});
/**
 * A ticket's desk card, named rather than held: the outbox renders it from the ticket as it is
 * when the message goes (OutboxDeps.render). Teams takes 60 messages per 30 s in a conversation,
 * so in a busy desk channel a card can wait minutes behind others: held, it would show the ticket
 * as it was when queued, and every waiting card would sit in the journal, its file and memory.
 */
const DeskCardPayload = z.object({
  kind: z.literal('deskCard'),
  ticketId: z.string().min(1),
});

export const OutboxPayload = z.discriminatedUnion('kind', [
  CardPayload,
  TextPayload,
  DeskCardPayload,
]);
export type OutboxPayload = z.infer<typeof OutboxPayload>;
/** A payload the outbox renders before it sends (see DeskCardPayload). */
export type RenderedPayload = z.infer<typeof DeskCardPayload>;
/** A payload the notifier can send as it is. */
export type SendablePayload = Exclude<OutboxPayload, RenderedPayload>;

export const OutboxOp = z.enum(['post', 'reply', 'update']);
export type OutboxOp = z.infer<typeof OutboxOp>;

export const OutboxStatus = z.enum(['pending', 'sent', 'failed']);
export type OutboxStatus = z.infer<typeof OutboxStatus>;

const ItemFields = {
  id: z.string().min(1),
  /** Ordering and rate-limit key: one conversation's items go one at a time, by seq. */
  conversationId: z.string().min(1),
  seq: z.string().min(1),
  op: OutboxOp,
  target: OutboxTarget,
  ticketId: z.string().min(1).optional(),
  status: OutboxStatus,
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: z.iso.datetime(),
  lastError: z.string().optional(),
  sentActivityId: z.string().optional(),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().optional(),
  /**
   * A desk card update not sent itself because a later update of the same card was queued behind
   * it: that one shows the ticket as it is then, so this one's content goes out with it.
   */
  supersededBy: z.string().min(1).optional(),
};

function checkTarget(item: { op: OutboxOp; target: OutboxTarget }, ctx: z.RefinementCtx): void {
  const t = item.target;
  if (item.op === 'reply' && !t.threadId && !t.threadOf)
    ctx.addIssue({
      code: 'custom',
      path: ['target', 'threadId'],
      message: 'a reply needs threadId or threadOf',
    });
  if (item.op === 'update' && !t.activityId && !t.activityOf)
    ctx.addIssue({
      code: 'custom',
      path: ['target', 'activityId'],
      message: 'an update needs activityId or activityOf',
    });
}

/** An item with its message: as enqueued, while pending, once failed, and as onSent sees it. */
export const OutboxItem = z
  .object({ ...ItemFields, payload: OutboxPayload })
  .superRefine(checkTarget);
export type OutboxItem = z.infer<typeof OutboxItem>;
/** An item as the notifier gets it: its target resolved and its payload rendered. */
export type SendableItem = Omit<OutboxItem, 'payload'> & { payload: SendablePayload };

/**
 * An item as the store keeps it. A delivered item is kept without its payload: a card's JSON is
 * several KB, and nothing reads it once sent (later items find the thread or message to update
 * through its sentActivityId). Pending and failed items keep it: one is still to be sent, the
 * other is shown and inspected.
 */
export const StoredOutboxItem = z
  .object({ ...ItemFields, payload: OutboxPayload.optional() })
  .superRefine((item, ctx) => {
    checkTarget(item, ctx);
    if (item.payload === undefined && item.status !== 'sent')
      ctx.addIssue({
        code: 'custom',
        path: ['payload'],
        message: `a ${item.status} item needs a payload (only a sent one is kept without)`,
      });
  });
export type StoredOutboxItem = z.infer<typeof StoredOutboxItem>;

/** What the store keeps of `item`: a sent item loses its payload, the others are kept whole. */
export function storedForm(item: OutboxItem): StoredOutboxItem {
  if (item.status !== 'sent') return item;
  const stored: StoredOutboxItem = { ...item };
  delete stored.payload;
  return stored;
}

/** What a caller decides; the rest (status, seq, times) is filled in by newOutboxItem. */
export interface OutboxItemInput {
  /** Deterministic, e.g. `OUT-100001:ack:reporter`: the same event enqueued twice is one item. */
  id: string;
  op: OutboxOp;
  target: OutboxTarget;
  payload: OutboxPayload;
  ticketId?: string;
  /** Defaults to target.conversationId. Give a desk channel's card, its updates and its thread
   * replies the same key so they are delivered in order. */
  conversationId?: string;
}

/** The indexes the outbox reads by; the composition root merges them into the store's IndexSpec. */
export const OUTBOX_INDEXES: IndexSpec = {
  [OUTBOX_COLLECTION]: {
    pending: (i: StoredOutboxItem) => (i.status === 'pending' ? 'pending' : undefined),
    failed: (i: StoredOutboxItem) => (i.status === 'failed' ? 'failed' : undefined),
    ticket: (i: StoredOutboxItem) => i.ticketId,
  },
};

/**
 * Items are named `<ticket id>:<what>` (DeskService), so a ticket's messages share one pack: an
 * acknowledgement's card update and news append to the file the ticket's desk card post started,
 * instead of creating two files (bench/findings.md).
 */
export const OUTBOX_PACKS: PackSpec = { [OUTBOX_COLLECTION]: { separator: ':' } };

// Orders items created in one millisecond (or after the clock was set back) in this process.
let lastSeqMs = 0;
let seqCounter = 0;

/** A sortable order key: the creation time (never going back in this process) and a counter. */
export function nextSeq(now: Date): string {
  const ms = Math.max(now.getTime(), lastSeqMs);
  seqCounter = ms === lastSeqMs ? seqCounter + 1 : 0;
  lastSeqMs = ms;
  return `${new Date(ms).toISOString()}#${String(seqCounter).padStart(6, '0')}`;
}

/**
 * A new pending item, validated; throws a ZodError naming the bad field. Typed by its payload, so
 * an item made with a card or a text is a SendableItem as it stands.
 */
export function newOutboxItem<P extends OutboxPayload>(
  input: OutboxItemInput & { payload: P },
  now: Date,
): OutboxItem & { payload: P } {
  const at = now.toISOString();
  return OutboxItem.parse({
    id: input.id,
    conversationId: input.conversationId ?? input.target.conversationId,
    seq: nextSeq(now),
    op: input.op,
    target: input.target,
    payload: input.payload,
    ticketId: input.ticketId,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: at,
    createdAt: at,
  }) as OutboxItem & { payload: P };
}

/**
 * The writes that enqueue `items`: add them to the batch of the state change that causes them.
 * Each is create-once (`ifMatch: 'absent'`), so a batch that repeats an event is rejected with a
 * ConflictError as a whole: re-read the state and decide again. Call `outbox.wake()` after the
 * write succeeds so delivery starts at once.
 */
export function enqueueOps(items: OutboxItem[]): WriteOp[] {
  return items.map((item) => ({
    op: 'put',
    collection: OUTBOX_COLLECTION,
    id: item.id,
    value: item,
    ifMatch: 'absent',
  }));
}

/** The ids of the items a batch enqueues: what to pass to `outbox.wake(ids)` once it is written. */
export function enqueuedIds(ops: readonly WriteOp[]): string[] {
  return ops
    .filter((op) => op.op === 'put' && op.collection === OUTBOX_COLLECTION)
    .map((op) => op.id);
}

/**
 * The items a written batch enqueued, each with the eTag the store gave it (`write` resolves one
 * per op, in order): what to pass to `outbox.wake(docs)` so that it takes them as written instead
 * of reading each back and validating it again. Only ops made by enqueueOps count: their values
 * are items newOutboxItem validated.
 */
export function enqueuedDocs(
  ops: readonly WriteOp[],
  eTags: readonly string[],
): StoredDoc<OutboxItem>[] {
  const docs: StoredDoc<OutboxItem>[] = [];
  ops.forEach((op, n) => {
    const eTag = eTags[n];
    if (op.op === 'put' && op.collection === OUTBOX_COLLECTION && op.ifMatch === 'absent' && eTag)
      docs.push({ id: op.id, eTag, value: op.value as OutboxItem });
  });
  return docs;
}

/** What a written batch was and what the store answered: its ops and their eTags, in order. */
export interface WrittenBatch {
  ops: readonly WriteOp[];
  eTags: readonly string[];
}

/** Delivery order within a conversation. */
export function compareSeq(a: OutboxItem, b: OutboxItem): number {
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Exponential backoff with equal jitter: half the step fixed (spacing), half random (spread). */
export function backoffMs(
  attempts: number,
  policy: { baseDelayMs: number; maxDelayMs: number },
  random: () => number,
): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

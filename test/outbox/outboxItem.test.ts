import { expect } from 'chai';
import { ZodError } from 'zod';
import {
  backoffMs,
  compareSeq,
  enqueueOps,
  newOutboxItem,
  OUTBOX_COLLECTION,
  OUTBOX_INDEXES,
  type OutboxItemInput,
  storedForm,
  StoredOutboxItem,
} from '../../src/outbox/outboxItem.js';

const at = new Date('2026-11-21T09:00:00Z');

describe('outboxItem', () => {
  it('makes a pending item keyed by its conversation, due now', () => {
    const item = newOutboxItem(
      {
        id: 'OUT-100001:ack:reporter',
        op: 'post',
        target: { conversationId: 'c1' },
        payload: { kind: 'text', text: 'hi' },
        ticketId: 'OUT-100001',
      },
      at,
    );
    expect(item).to.include({
      status: 'pending',
      attempts: 0,
      conversationId: 'c1',
      nextAttemptAt: at.toISOString(),
      createdAt: at.toISOString(),
    });
  });

  it('keeps enqueue order in seq within one millisecond and when the clock goes back', () => {
    const mk = (id: string, when: Date) =>
      newOutboxItem(
        { id, op: 'post', target: { conversationId: 'c' }, payload: { kind: 'text', text: id } },
        when,
      );
    const items = [
      mk('b', at),
      mk('a', at),
      mk('c', new Date(at.getTime() - 5_000)),
      mk('d', new Date(at.getTime() + 1)),
    ];
    expect([...items].sort(compareSeq).map((i) => i.id)).to.deep.equal(['b', 'a', 'c', 'd']);
  });

  it('refuses a reply without a thread and an update without an activity, naming the field', () => {
    const bad = [
      {
        id: 'r',
        op: 'reply' as const,
        target: { conversationId: 'c' },
        payload: { kind: 'text' as const, text: 'x' },
      },
      {
        id: 'u',
        op: 'update' as const,
        target: { conversationId: 'c' },
        payload: { kind: 'text' as const, text: 'x' },
      },
    ];
    expect(() => newOutboxItem(bad[0]!, at)).to.throw(ZodError, /threadId/);
    expect(() => newOutboxItem(bad[1]!, at)).to.throw(ZodError, /activityId/);
  });

  it('accepts a reply in the thread of an earlier item', () => {
    const item = newOutboxItem(
      {
        id: 'r',
        op: 'reply',
        target: { conversationId: 'desk', threadOf: 'OUT-1:desk-card' },
        payload: { kind: 'text', text: 'x' },
      },
      at,
    );
    expect(item.target.threadOf).to.equal('OUT-1:desk-card');
  });

  it('refuses an item without a payload, naming the field', () => {
    const input = { id: 'x', op: 'post', target: { conversationId: 'c' } } as OutboxItemInput;
    expect(() => newOutboxItem(input, at)).to.throw(ZodError, /payload/);
  });

  it('stores a sent item without its payload, and the others whole', () => {
    const item = newOutboxItem(
      {
        id: 'x',
        op: 'post',
        target: { conversationId: 'c' },
        payload: { kind: 'card', card: 'deskTicket', data: { rev: 1 } },
        ticketId: 'T',
      },
      at,
    );
    const sent = { ...item, status: 'sent' as const, attempts: 1, sentActivityId: 'act-1' };
    const stored = storedForm(sent);
    const { payload: _delivered, ...rest } = sent;
    expect(stored).to.not.have.property('payload');
    expect(stored).to.deep.equal(rest);
    expect(sent.payload, 'the item handed in is left as it was').to.deep.include({
      card: 'deskTicket',
    });
    expect(StoredOutboxItem.parse(stored)).to.deep.equal(stored);
    expect(storedForm(item)).to.equal(item);
    const failed = { ...item, status: 'failed' as const };
    expect(storedForm(failed)).to.equal(failed);
  });

  it('refuses a stored pending or failed item without a payload, saying why', () => {
    const item = newOutboxItem(
      {
        id: 'x',
        op: 'post',
        target: { conversationId: 'c' },
        payload: { kind: 'text', text: 't' },
      },
      at,
    );
    const { payload: _payload, ...bare } = item;
    for (const status of ['pending', 'failed'] as const) {
      const r = StoredOutboxItem.safeParse({ ...bare, status });
      expect(r.success, status).to.equal(false);
      expect(r.error!.issues).to.deep.equal([
        {
          code: 'custom',
          path: ['payload'],
          message: `a ${status} item needs a payload (only a sent one is kept without)`,
        },
      ]);
    }
    expect(StoredOutboxItem.safeParse({ ...bare, status: 'sent' }).success).to.equal(true);
    // Stored before sent items were compacted: still read.
    expect(StoredOutboxItem.safeParse({ ...item, status: 'sent' }).success).to.equal(true);
  });

  it('enqueues create-once puts', () => {
    const item = newOutboxItem(
      {
        id: 'x',
        op: 'post',
        target: { conversationId: 'c' },
        payload: { kind: 'card', card: 'ack', data: { a: 1 } },
      },
      at,
    );
    expect(enqueueOps([item])).to.deep.equal([
      { op: 'put', collection: OUTBOX_COLLECTION, id: 'x', value: item, ifMatch: 'absent' },
    ]);
  });

  it('indexes pending and failed items and items by ticket', () => {
    const idx = OUTBOX_INDEXES[OUTBOX_COLLECTION]!;
    const item = newOutboxItem(
      {
        id: 'x',
        op: 'post',
        target: { conversationId: 'c' },
        payload: { kind: 'text', text: 't' },
        ticketId: 'T',
      },
      at,
    );
    expect(idx.pending!(item)).to.equal('pending');
    expect(idx.pending!({ ...item, status: 'sent' })).to.equal(undefined);
    expect(idx.failed!({ ...item, status: 'failed' })).to.equal('failed');
    expect(idx.ticket!(item)).to.equal('T');
  });

  const policy = { baseDelayMs: 500, maxDelayMs: 300_000 };
  const rows: [number, number, number][] = [
    [1, 250, 500],
    [2, 500, 1_000],
    [3, 1_000, 2_000],
    [12, 150_000, 300_000],
  ];
  for (const [attempts, min, max] of rows)
    it(`backs off between ${min} and ${max} ms after attempt ${attempts}`, () => {
      expect(backoffMs(attempts, policy, () => 0)).to.equal(min);
      expect(backoffMs(attempts, policy, () => 0.999999)).to.be.within(max - 1, max);
    });
});

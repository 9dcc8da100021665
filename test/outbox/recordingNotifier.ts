// A Notifier that records what it was asked to send and fails on demand.

import { DeliveryError, type Notifier } from '../../src/outbox/notifier.js';
import type { OutboxItem } from '../../src/outbox/outboxItem.js';
import type { Clock } from '../../src/time.js';

export interface RecordedSend {
  item: OutboxItem;
  at: number;
  ok: boolean;
  /** What the outbox aborts when it stops waiting for this send. */
  signal?: AbortSignal;
}

export class RecordingNotifier implements Notifier {
  readonly calls: RecordedSend[] = [];
  private readonly script: (Error | 'hold')[] = [];
  private readonly failing = new Map<string, Error>();
  private readonly held: (() => void)[] = [];
  private ids = 0;

  constructor(private readonly clock: Clock) {}

  /** Items delivered, in order. */
  get sent(): OutboxItem[] {
    return this.calls.filter((c) => c.ok).map((c) => c.item);
  }

  /** The next calls throw these, in order. */
  failNext(...errors: Error[]): this {
    this.script.push(...errors);
    return this;
  }

  /** Every send to this conversation throws `error`. */
  failConversation(conversationId: string, error: Error): this {
    this.failing.set(conversationId, error);
    return this;
  }

  /** The next call waits until release(). */
  holdNext(): this {
    this.script.push('hold');
    return this;
  }

  release(): void {
    for (const r of this.held.splice(0)) r();
  }

  async send(item: OutboxItem, signal?: AbortSignal): Promise<{ activityId?: string }> {
    const call: RecordedSend = { item, at: this.clock.now().getTime(), ok: false, signal };
    this.calls.push(call);
    const fixed = this.failing.get(item.target.conversationId);
    if (fixed) throw fixed;
    const next = this.script.shift();
    if (next === 'hold') await new Promise<void>((r) => this.held.push(r));
    else if (next) throw next;
    call.ok = true;
    return { activityId: `act-${++this.ids}` };
  }
}

export const transient = (status = 500, retryAfterMs?: number): DeliveryError =>
  new DeliveryError(`HTTP ${status}`, { status, retryAfterMs, permanent: false });

export const permanent = (status = 403): DeliveryError =>
  new DeliveryError(`HTTP ${status}`, { status, permanent: true });

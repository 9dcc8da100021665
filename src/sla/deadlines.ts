import type { Logger } from '../logger.js';
import type { Store, WriteOp } from '../store/store.js';
import type { Clock } from '../time.js';

// Durable deadlines (the SLA clock's warning and escalation). Each is a small document, written in
// the same store batch as the ticket change that sets it, and deleted in the same batch as the
// work it triggers: so it fires once, and a restart neither loses nor repeats it.

export const DEADLINES = 'deadlines';

export interface Deadline {
  id: string; // `${ticketId}:${kind}`: a ticket has at most one deadline of each kind
  ticketId: string;
  kind: 'warn' | 'escalate';
  at: string; // ISO
  /** The SLA due time it belongs to; a deadline whose ticket moved on is stale and dropped. */
  slaDueAt: string;
}

export const DEADLINE_INDEXES = {
  [DEADLINES]: { all: () => 'all' },
};

export function deadlineOps(ticketId: string, sla: { warnAt: string; dueAt: string }): WriteOp[] {
  const make = (kind: Deadline['kind'], at: string): WriteOp => ({
    op: 'put',
    collection: DEADLINES,
    id: `${ticketId}:${kind}`,
    value: { id: `${ticketId}:${kind}`, ticketId, kind, at, slaDueAt: sla.dueAt } satisfies Deadline,
  });
  return [make('warn', sla.warnAt), make('escalate', sla.dueAt)];
}

/** Ops that remove a fired or obsolete deadline; pass the eTag read so a second firing conflicts. */
export function deadlineDone(d: Deadline, eTag: string): WriteOp {
  return { op: 'delete', collection: DEADLINES, id: d.id, ifMatch: eTag };
}

/** Handles one due deadline: must write deadlineDone(d, eTag) in its batch. */
export type DeadlineHandler = (deadline: Deadline, eTag: string) => Promise<void>;

/** Timer port so tests and benchmarks decide when time passes. */
export interface Timers {
  set(fn: () => void, ms: number): { cancel(): void };
}
export const realTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Keeps the due times in memory (sorted), loads them at start, fires each when due. */
export class DeadlineScheduler {
  private due: { at: number; id: string }[] = [];
  private timer: { cancel(): void } | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  // Re-check at least this often, so a system clock change cannot delay a deadline for long.
  private static readonly MAX_SLEEP_MS = 30_000;

  constructor(
    private readonly deps: { store: Store; clock: Clock; logger: Logger; handle: DeadlineHandler; timers?: Timers },
  ) {}

  async start(): Promise<void> {
    const all = await this.deps.store.find<Deadline>(DEADLINES, 'all', 'all');
    this.due = all.map((d) => ({ at: Date.parse(d.value.at), id: d.id })).sort((a, b) => a.at - b.at);
    this.deps.logger.info({ pending: this.due.length }, 'deadlines loaded');
    this.arm();
  }

  /** Tells the scheduler about deadlines just written (after the write resolved). */
  added(deadlines: { id: string; at: string }[]): void {
    for (const d of deadlines) {
      this.due = this.due.filter((x) => x.id !== d.id);
      const at = Date.parse(d.at);
      const i = this.due.findIndex((x) => x.at > at);
      this.due.splice(i < 0 ? this.due.length : i, 0, { at, id: d.id });
    }
    this.arm();
  }

  /** Fires every deadline that is due now; resolves when they are handled. */
  tick(): Promise<void> {
    this.running ??= this.fireDue().finally(() => {
      this.running = undefined;
      this.arm();
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.running;
  }

  get pending(): number {
    return this.due.length;
  }

  private arm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.stopped || this.due.length === 0) return;
    const wait = Math.max(0, Math.min(this.due[0]!.at - this.deps.clock.now().getTime(), DeadlineScheduler.MAX_SLEEP_MS));
    this.timer = (this.deps.timers ?? realTimers).set(() => void this.tick(), wait);
  }

  private async fireDue(): Promise<void> {
    const now = this.deps.clock.now().getTime();
    while (!this.stopped && this.due.length > 0 && this.due[0]!.at <= now) {
      const { id } = this.due.shift()!;
      const doc = await this.deps.store.get<Deadline>(DEADLINES, id);
      if (!doc) continue; // already handled (or cancelled)
      const at = Date.parse(doc.value.at);
      if (at > now) {
        // Moved later since it was learnt (the desk changed the SLA, perhaps in another instance).
        const i = this.due.findIndex((x) => x.at > at);
        if (!this.due.some((x) => x.id === id)) this.due.splice(i < 0 ? this.due.length : i, 0, { at, id });
        continue;
      }
      try {
        await this.deps.handle(doc.value, doc.eTag);
      } catch (err) {
        // Keep it: it is retried at the next tick rather than lost.
        this.deps.logger.error({ err, deadline: id }, 'deadline handler failed; will retry');
        this.due.push({ at: now + 5_000, id });
        this.due.sort((a, b) => a.at - b.at);
      }
    }
  }
}

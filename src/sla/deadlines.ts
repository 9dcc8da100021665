import { type Deadline, deadlineOf, pendingDeadlines, type Ticket } from '../domain/ticket.js';
import type { Logger } from '../logger.js';
import { MinHeap } from '../minHeap.js';
import { COLLECTIONS } from '../services/collections.js';
import type { IndexSpec, Store } from '../store/store.js';
import type { Clock } from '../time.js';

// The SLA clock's deadlines (the desk's warning and the escalation) are not documents of their
// own: they follow from the ticket. While a ticket is open and unacknowledged, it still has to warn
// (until `sla.warnedAt` is set) and to escalate (until `sla.escalatedAt` is set). The handler that
// fires one sets that field in the same write as the messages it sends, with ifMatch on the
// ticket, so a deadline fires once, and a restart neither loses nor repeats it. Acknowledging,
// resolving or moving the SLA changes the ticket, and with it its deadlines, in the same write.

export type { Deadline } from '../domain/ticket.js';

/**
 * The tickets index `deadline`: `kind|at` of each pending deadline. Start-up learns every due time
 * from it (Store.indexEntries) without reading 20,000 tickets.
 */
export const DEADLINE_INDEXES: IndexSpec = {
  [COLLECTIONS.tickets]: {
    deadline: (t: Ticket) => {
      const pending = pendingDeadlines(t);
      return pending.length > 0 ? pending.map((d) => `${d.kind}|${d.at}`) : undefined;
    },
  },
};

/** A deadline from a key of the `deadline` index (undefined if the key is not one). */
export function fromIndexKey(ticketId: string, key: string): Deadline | undefined {
  const bar = key.indexOf('|');
  const kind = key.slice(0, bar);
  if (bar < 0 || (kind !== 'warn' && kind !== 'escalate')) return undefined;
  return deadlineOf(ticketId, kind, key.slice(bar + 1));
}

/** A due time in ms; one that does not parse is due at once (the handler drops what it cannot use). */
function timeOf(at: string): number {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Handles one due deadline: re-reads the ticket, and fires it unless the ticket moved on. */
export type DeadlineHandler = (deadline: Deadline) => Promise<void>;

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

/** Keeps the due times in memory, loads them at start, fires each when due. */
export class DeadlineScheduler {
  /** id -> when it is due: the truth. */
  private readonly atOf = new Map<string, number>();
  /**
   * The same, earliest first (then by id). An acknowledgement forgets two deadlines among tens of
   * thousands: entries are dropped lazily (one whose time is no longer its id's is skipped) rather
   * than searched for.
   */
  private due = new MinHeap<{ at: number; id: string }>((a, b) => byTimeThenId(a, b) < 0);
  private timer: { cancel(): void } | undefined;
  /** The due time the timer was set for (it may wake earlier, at MAX_SLEEP_MS). */
  private armedFor: number | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  // Re-check at least this often, so a system clock change cannot delay a deadline for long.
  private static readonly MAX_SLEEP_MS = 30_000;

  constructor(
    private readonly deps: { store: Store; clock: Clock; logger: Logger; handle: DeadlineHandler; timers?: Timers },
  ) {}

  async start(): Promise<void> {
    const { store } = this.deps;
    const known: Deadline[] = [];
    if (store.indexEntries) {
      for (const { id, keys } of await store.indexEntries(COLLECTIONS.tickets, 'deadline'))
        for (const key of keys) {
          const d = fromIndexKey(id, key);
          if (d) known.push(d);
        }
    } else {
      // Every ticket with a pending deadline is still 'submitted'.
      for (const doc of await store.find<Ticket>(COLLECTIONS.tickets, 'status', 'submitted'))
        known.push(...pendingDeadlines(doc.value));
    }
    this.atOf.clear();
    this.due.retain(() => false);
    for (const d of known) this.schedule(d.id, timeOf(d.at));
    this.deps.logger.info({ pending: this.atOf.size }, 'deadlines loaded');
    this.arm();
  }

  /**
   * Tells the scheduler what a ticket's deadlines are now (pendingDeadlines of what was just
   * written): new and moved ones are scheduled, the ticket's others forgotten.
   */
  track(ticketId: string, pending: readonly Deadline[]): void {
    for (const kind of ['warn', 'escalate'] as const) {
      const id = `${ticketId}:${kind}`;
      const d = pending.find((p) => p.id === id);
      if (d) this.schedule(id, timeOf(d.at));
      else this.unschedule(id);
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
    return this.atOf.size;
  }

  private arm(): void {
    const next = this.next();
    // Every new ticket tracks two deadlines, nearly always later than the earliest: keep the timer.
    if (this.timer && !this.stopped && next?.at === this.armedFor) return;
    this.timer?.cancel();
    this.timer = undefined;
    if (this.stopped || !next) return;
    const wait = Math.max(0, Math.min(next.at - this.deps.clock.now().getTime(), DeadlineScheduler.MAX_SLEEP_MS));
    this.armedFor = next.at;
    this.timer = (this.deps.timers ?? realTimers).set(() => {
      this.timer = undefined;
      void this.tick();
    }, wait);
  }

  private async fireDue(): Promise<void> {
    const now = this.deps.clock.now().getTime();
    for (let next = this.next(); !this.stopped && next && next.at <= now; next = this.next()) {
      const { id } = this.due.pop()!;
      this.atOf.delete(id);
      const sep = id.lastIndexOf(':');
      const ticketId = id.slice(0, sep);
      const kind = id.slice(sep + 1);
      let d: Deadline | undefined;
      try {
        const doc = await this.deps.store.get<Ticket>(COLLECTIONS.tickets, ticketId);
        d = doc && pendingDeadlines(doc.value).find((p) => p.kind === kind);
      } catch (err) {
        this.deps.logger.error({ err, deadline: id }, 'cannot read the ticket of a due deadline; will retry');
        this.schedule(id, now + 5_000);
        continue;
      }
      if (!d) continue; // fired, acknowledged or resolved meanwhile (perhaps by another instance)
      const at = timeOf(d.at);
      if (at > now) {
        // Moved later since it was learnt (the desk changed the SLA, perhaps in another instance).
        if (!this.atOf.has(id)) this.schedule(id, at);
        continue;
      }
      try {
        await this.deps.handle(d);
      } catch (err) {
        // Keep it: it is retried at the next tick rather than lost.
        this.deps.logger.error({ err, deadline: id }, 'deadline handler failed; will retry');
        this.schedule(id, now + 5_000);
      }
    }
  }

  /** The earliest deadline still wanted, stale entries dropped on the way. */
  private next(): { at: number; id: string } | undefined {
    for (let top = this.due.peek(); top; top = this.due.peek()) {
      if (this.atOf.get(top.id) === top.at) return top;
      this.due.pop();
    }
    return undefined;
  }

  /** Puts (or moves) `id` at `at`: O(log n); its old entry goes stale. */
  private schedule(id: string, at: number): void {
    if (this.atOf.get(id) === at) return;
    this.atOf.set(id, at);
    this.due.push({ at, id });
    this.compact();
  }

  private unschedule(id: string): void {
    if (this.atOf.delete(id)) this.compact();
  }

  /** Drops stale entries once they outnumber the wanted ones (amortised O(1) per change). */
  private compact(): void {
    if (this.due.size > 2 * this.atOf.size + 64) this.due.retain((e) => this.atOf.get(e.id) === e.at);
  }
}

function byTimeThenId(a: { at: number; id: string }, b: { at: number; id: string }): number {
  return a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

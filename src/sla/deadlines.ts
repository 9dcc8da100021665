import { type Deadline, deadlineOf, pendingDeadlines, type Ticket } from '../domain/ticket.js';
import type { Logger } from '../logger.js';
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

function fromIndexKey(ticketId: string, key: string): Deadline | undefined {
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

/** Keeps the due times in memory (sorted), loads them at start, fires each when due. */
export class DeadlineScheduler {
  /** Sorted by time, then id. */
  private due: { at: number; id: string }[] = [];
  /** id -> its time in `due`, to find it again in O(log n). */
  private readonly atOf = new Map<string, number>();
  private timer: { cancel(): void } | undefined;
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
    this.due = [];
    this.atOf.clear();
    for (const d of known) {
      const at = timeOf(d.at);
      this.due.push({ at, id: d.id });
      this.atOf.set(d.id, at);
    }
    this.due.sort(byTimeThenId);
    this.deps.logger.info({ pending: this.due.length }, 'deadlines loaded');
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

  /** Puts (or moves) `id` at `at`, keeping `due` sorted: a binary search, not a scan. */
  private schedule(id: string, at: number): void {
    if (this.atOf.get(id) === at) return;
    this.unschedule(id);
    const entry = { at, id };
    this.due.splice(bisect(this.due, entry), 0, entry);
    this.atOf.set(id, at);
  }

  private unschedule(id: string): void {
    const old = this.atOf.get(id);
    if (old === undefined) return;
    const i = bisect(this.due, { at: old, id });
    if (this.due[i]?.id === id) this.due.splice(i, 1);
    this.atOf.delete(id);
  }
}

function byTimeThenId(a: { at: number; id: string }, b: { at: number; id: string }): number {
  return a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The first index whose entry does not sort before `entry`. */
function bisect(list: readonly { at: number; id: string }[], entry: { at: number; id: string }): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byTimeThenId(list[mid]!, entry) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

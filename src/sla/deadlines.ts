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
  // `at` lets start-up learn every due time from the store's index (Store.indexEntries) without
  // reading 20,000 documents; `all` lists them on a store that cannot.
  [DEADLINES]: { all: () => 'all', at: (d: Deadline) => d.at },
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
    const known = store.indexEntries
      ? (await store.indexEntries(DEADLINES, 'at')).map((e) => ({ id: e.id, at: e.keys[0] }))
      : (await store.find<Deadline>(DEADLINES, 'all', 'all')).map((d) => ({ id: d.id, at: d.value.at }));
    this.due = [];
    this.atOf.clear();
    for (const d of known) {
      const at = d.at === undefined ? NaN : Date.parse(d.at);
      // A time that does not parse fires at once (and the handler drops what it cannot use).
      const when = Number.isNaN(at) ? 0 : at;
      this.due.push({ at: when, id: d.id });
      this.atOf.set(d.id, when);
    }
    this.due.sort(byTimeThenId);
    this.deps.logger.info({ pending: this.due.length }, 'deadlines loaded');
    this.arm();
  }

  /** Tells the scheduler about deadlines just written (after the write resolved). */
  added(deadlines: { id: string; at: string }[]): void {
    for (const d of deadlines) this.schedule(d.id, Date.parse(d.at));
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
      const doc = await this.deps.store.get<Deadline>(DEADLINES, id);
      if (!doc) continue; // already handled (or cancelled)
      const at = Date.parse(doc.value.at);
      if (at > now) {
        // Moved later since it was learnt (the desk changed the SLA, perhaps in another instance).
        if (!this.atOf.has(id)) this.schedule(id, at);
        continue;
      }
      try {
        await this.deps.handle(doc.value, doc.eTag);
      } catch (err) {
        // Keep it: it is retried at the next tick rather than lost.
        this.deps.logger.error({ err, deadline: id }, 'deadline handler failed; will retry');
        this.schedule(id, now + 5_000);
      }
    }
  }

  /** Puts (or moves) `id` at `at`, keeping `due` sorted: a binary search, not a scan. */
  private schedule(id: string, at: number): void {
    const old = this.atOf.get(id);
    if (old !== undefined) {
      const i = bisect(this.due, { at: old, id });
      if (this.due[i]?.id === id) this.due.splice(i, 1);
    }
    const entry = { at, id };
    this.due.splice(bisect(this.due, entry), 0, entry);
    this.atOf.set(id, at);
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

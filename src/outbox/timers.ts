// A timer port beside the Clock port, so tests can move time and have due timers fire.

import type { ManualClock } from '../time.js';

export type TimerHandle = object;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

// setTimeout overflows to 1 ms past 2^31-1 ms; callers re-check the clock when it fires anyway.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Real timers, unref'd: a pending retry never keeps the process alive on its own. */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMEOUT_MS));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface ManualTimer {
  at: number;
  order: number;
  fn: () => void;
}

/** Timers driven by a ManualClock: advance() moves the clock and fires what falls due, in order. */
export class ManualTimers implements Timers {
  private timers = new Set<ManualTimer>();
  private order = 0;

  constructor(readonly clock: ManualClock) {}

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.clock.now().getTime() + Math.max(0, ms), order: this.order++, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as ManualTimer);
  }

  /** Timers not yet fired. */
  get size(): number {
    return this.timers.size;
  }

  /** When the earliest timer is due, if any. */
  nextAt(): Date | undefined {
    const next = this.earliest();
    return next ? new Date(next.at) : undefined;
  }

  /** Moves the clock forward by `ms`, firing each timer due on the way at its own time. */
  advance(ms: number): void {
    const end = this.clock.now().getTime() + ms;
    for (let next = this.earliest(); next && next.at <= end; next = this.earliest()) {
      this.fire(next);
    }
    this.clock.set(new Date(end));
  }

  /** Moves the clock to the earliest timer and fires it; false if there is none. */
  runNext(): boolean {
    const next = this.earliest();
    if (!next) return false;
    this.fire(next);
    return true;
  }

  private fire(timer: ManualTimer): void {
    this.timers.delete(timer);
    if (timer.at > this.clock.now().getTime()) this.clock.set(new Date(timer.at));
    timer.fn();
  }

  private earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (!best || t.at < best.at || (t.at === best.at && t.order < best.order)) best = t;
    }
    return best;
  }
}

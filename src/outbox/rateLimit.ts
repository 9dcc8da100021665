// Teams' per-conversation limits: sliding windows over the send attempts of one conversation.
// A token bucket of 7 refilled at 7/s lets 13 through in one second (the burst plus the refill);
// sliding windows never exceed the limit in any window, however the service counts.

/** At most `max` sends in any `windowMs`. */
export interface RateWindow {
  max: number;
  windowMs: number;
}

/** Teams: 7 per second and 60 per 30 seconds per conversation (bot per thread). */
export const TEAMS_CONVERSATION_LIMITS: RateWindow[] = [
  { max: 7, windowMs: 1_000 },
  { max: 60, windowMs: 30_000 },
];

/** The send times of one key, kept only as long as the longest window needs them. */
export class SlidingWindowLimiter {
  // Per key, ascending: each window's sends are a suffix, found by index rather than by a filtered
  // copy (the outbox asks each time it reschedules a conversation, after every send).
  private readonly sends = new Map<string, number[]>();
  private readonly horizon: number;

  constructor(private readonly windows: RateWindow[]) {
    this.horizon = Math.max(0, ...windows.map((w) => w.windowMs));
  }

  /** The earliest time (ms) a send for `key` may start: `now` if one may start now. */
  freeAt(key: string, now: number): number {
    const times = this.prune(key, now);
    if (!times) return now;
    let at = now;
    for (const w of this.windows) {
      const inWindow = times.length - firstAfter(times, now - w.windowMs);
      // The send that must leave the window before another may start.
      if (inWindow >= w.max && w.max > 0)
        at = Math.max(at, times[times.length - w.max]! + w.windowMs);
    }
    return at;
  }

  /** Counts a send attempt (failed ones count too: the service saw them). */
  record(key: string, at: number): void {
    const times = this.sends.get(key);
    if (!times) this.sends.set(key, [at]);
    else if (times.length === 0 || times[times.length - 1]! <= at) times.push(at);
    else times.splice(firstAfter(times, at), 0, at); // the clock went back: keep the order
  }

  /** The key's times still inside the longest window, dropped from the front in place. */
  private prune(key: string, now: number): number[] | undefined {
    const times = this.sends.get(key);
    if (!times) return undefined;
    const drop = firstAfter(times, now - this.horizon);
    if (drop === 0) return times;
    if (drop === times.length) {
      this.sends.delete(key);
      return undefined;
    }
    times.copyWithin(0, drop);
    times.length -= drop;
    return times;
  }
}

/** The index of the first time after `t` in ascending `times` (its length if none). */
function firstAfter(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

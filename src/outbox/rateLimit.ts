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
  private readonly sends = new Map<string, number[]>();
  private readonly horizon: number;

  constructor(private readonly windows: RateWindow[]) {
    this.horizon = Math.max(0, ...windows.map((w) => w.windowMs));
  }

  /** The earliest time (ms) a send for `key` may start: `now` if one may start now. */
  freeAt(key: string, now: number): number {
    const times = this.prune(key, now);
    let at = now;
    for (const w of this.windows) {
      const inWindow = times.filter((t) => t > now - w.windowMs);
      // The send that must leave the window before another may start.
      const blocker = inWindow[inWindow.length - w.max];
      if (inWindow.length >= w.max && blocker !== undefined)
        at = Math.max(at, blocker + w.windowMs);
    }
    return at;
  }

  /** Counts a send attempt (failed ones count too: the service saw them). */
  record(key: string, at: number): void {
    const times = this.sends.get(key) ?? [];
    times.push(at);
    this.sends.set(key, times);
  }

  private prune(key: string, now: number): number[] {
    const times = this.sends.get(key);
    if (!times) return [];
    const kept = times.filter((t) => t > now - this.horizon);
    if (kept.length === 0) this.sends.delete(key);
    else this.sends.set(key, kept);
    return kept;
  }
}

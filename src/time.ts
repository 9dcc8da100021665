/** Time is injected so that tests can move it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A settable clock for tests and benchmarks. */
export class ManualClock implements Clock {
  constructor(private t = new Date('2026-11-21T09:00:00Z')) {}
  now(): Date {
    return new Date(this.t);
  }
  set(t: Date | string): void {
    this.t = new Date(t);
  }
  advance(ms: number): void {
    this.t = new Date(this.t.getTime() + ms);
  }
}

const knownZones = new Map<string, boolean>();

export function isTimeZone(tz: string | undefined): tz is string {
  if (!tz) return false;
  let known = knownZones.get(tz);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      known = true;
    } catch {
      known = false; // RangeError for an unknown zone is the answer, not a failure
    }
    if (knownZones.size < 1000) knownZones.set(tz, known); // bounded: zones come from requests
  }
  return known;
}

// Building an Intl.DateTimeFormat costs far more than using one (and ICU memory outside the heap):
// keep one per style and zone. A process sees a handful of zones.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(style: 'clock' | 'dateTime', timeZone: string): Intl.DateTimeFormat {
  const key = `${style}|${timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      ...(style === 'dateTime' ? { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' } : {}),
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
    });
    formatters.set(key, f);
  }
  return f;
}

/** "10:42 AM PST": a clock time in the user's zone, with the zone named so nobody guesses. */
export function formatClock(at: Date | string, timeZone: string): string {
  return formatter('clock', timeZone).format(new Date(at));
}

/** "Sat, Nov 21, 2026, 10:12 AM PST". */
export function formatDateTime(at: Date | string, timeZone: string): string {
  return formatter('dateTime', timeZone).format(new Date(at));
}

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

// Formatting with ICU costs about 5 µs a call, and a desk card formats up to ten times (its SLA
// line, its timeline, its facts), twice per action. Both formats show minutes at most, so a result
// holds for its whole minute: kept per style, zone and minute, at most MAX_FORMATTED of them (the
// map starts again when full; a card's times are mostly recent and repeat).
const MAX_FORMATTED = 5_000;
const formatted = new Map<string, string>();
const SINCE_WHOLE_MINUTE_OFFSETS = Date.UTC(1972, 0, 1);
function formatMinute(style: 'clock' | 'dateTime', at: Date | string, timeZone: string): string {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  // An invalid date throws as it always did; before 1972 some zones' offsets had seconds in them.
  if (!(ms >= SINCE_WHOLE_MINUTE_OFFSETS)) return formatter(style, timeZone).format(new Date(ms));
  const key = `${style}|${timeZone}|${Math.floor(ms / 60_000)}`;
  let text = formatted.get(key);
  if (text === undefined) {
    text = formatter(style, timeZone).format(ms);
    if (formatted.size >= MAX_FORMATTED) formatted.clear();
    formatted.set(key, text);
  }
  return text;
}

/** "10:42 AM PST": a clock time in the user's zone, with the zone named so nobody guesses. */
export function formatClock(at: Date | string, timeZone: string): string {
  return formatMinute('clock', at, timeZone);
}

/** "Sat, Nov 21, 2026, 10:12 AM PST". */
export function formatDateTime(at: Date | string, timeZone: string): string {
  return formatMinute('dateTime', at, timeZone);
}

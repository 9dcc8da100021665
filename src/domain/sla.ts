import { z } from 'zod';

// Initial-response targets by support plan and severity (SPEC §5, Microsoft's support overview).
// The directory may override the table; these are its defaults. A production outage is always
// acknowledged within 30 minutes, whatever the plan.

export const SupportPlanKind = z.enum([
  'premier',
  'professional-direct',
  'subscription',
  'unified-core',
  'unified-advanced',
  'unified-performance',
]);
export type SupportPlanKind = z.infer<typeof SupportPlanKind>;

export const PLAN_LABELS: Record<SupportPlanKind, string> = {
  premier: 'Premier',
  'professional-direct': 'Professional Direct',
  subscription: 'Subscription',
  'unified-core': 'Unified Core',
  'unified-advanced': 'Unified Advanced',
  'unified-performance': 'Unified Performance',
};

export const Target = z.strictObject({
  minutes: z.number().int().positive(),
  /** 24x7, or counted only within the organisation's business hours. */
  clock: z.enum(['24x7', 'business-hours']),
});
export type Target = z.infer<typeof Target>;

export const SlaTable = z.record(
  SupportPlanKind,
  z.strictObject({ A: Target, B: Target, C: Target }),
);
export type SlaTable = z.infer<typeof SlaTable>;

const h = (hours: number, clock: Target['clock'] = '24x7'): Target => ({ minutes: hours * 60, clock });

export const DEFAULT_SLA_TABLE: SlaTable = {
  premier: { A: h(1), B: h(2), C: h(4, 'business-hours') },
  'professional-direct': { A: h(1), B: h(2, 'business-hours'), C: h(4, 'business-hours') },
  subscription: { A: h(1), B: h(4, 'business-hours'), C: h(8, 'business-hours') },
  'unified-core': { A: h(1), B: h(8), C: h(8) },
  'unified-advanced': { A: h(1), B: h(4), C: h(4) },
  'unified-performance': { A: { minutes: 30, clock: '24x7' }, B: h(4), C: h(4) },
};

export const BusinessHours = z
  .strictObject({
    start: z.string().regex(/^\d{2}:\d{2}$/),
    end: z.string().regex(/^\d{2}:\d{2}$/),
    days: z.array(z.number().int().min(0).max(6)).min(1), // 0 = Sunday
  })
  .default({ start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] });
export type BusinessHours = z.infer<typeof BusinessHours>;

export const OUTAGE_TARGET: Target = { minutes: 30, clock: '24x7' };

/** When a response is due: `minutes` after `from`, counting only business hours where the target says so. */
export function dueAt(from: Date, target: Target, timeZone: string, hours: BusinessHours): Date {
  if (target.clock === '24x7') return new Date(from.getTime() + target.minutes * 60_000);
  return addBusinessMinutes(from, target.minutes, timeZone, hours);
}

function minutesOf(hhmm: string): number {
  const [hh, mm] = hhmm.split(':').map(Number);
  return hh! * 60 + mm!;
}

/** The wall-clock weekday and minute of the day of an instant in a zone. */
function local(at: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '0';
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

// Walks minute by minute in steps of whole open or closed stretches; a year of closed days at most.
function addBusinessMinutes(from: Date, minutes: number, timeZone: string, hours: BusinessHours): Date {
  const open = minutesOf(hours.start);
  const close = minutesOf(hours.end);
  let t = new Date(Math.ceil(from.getTime() / 60_000) * 60_000);
  let left = minutes;
  for (let guard = 0; guard < 366 * 3 && left > 0; guard++) {
    const { day, minute } = local(t, timeZone);
    if (hours.days.includes(day) && minute >= open && minute < close) {
      const step = Math.min(left, close - minute);
      t = new Date(t.getTime() + step * 60_000);
      left -= step;
    } else {
      // jump to the next opening: today's if before it, else tomorrow's (DST-safe: re-read the clock)
      const wait = minute < open && hours.days.includes(day) ? open - minute : 24 * 60 - minute + open;
      t = new Date(t.getTime() + wait * 60_000);
      const again = local(t, timeZone);
      if (again.minute !== open) t = new Date(t.getTime() + (open - again.minute) * 60_000);
    }
  }
  return t;
}

export function describeTarget(target: Target): string {
  const span = target.minutes % 60 === 0 ? `${target.minutes / 60} hour${target.minutes === 60 ? '' : 's'}` : `${target.minutes} minutes`;
  return `${span}${target.clock === 'business-hours' ? ', business hours' : ', 24x7'}`;
}

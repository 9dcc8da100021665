// formatClock / formatDateTime keep each minute's text; they must still say what ICU says.

import { expect } from 'chai';
import { formatClock, formatDateTime } from '../src/time.js';

const icu = (options: Intl.DateTimeFormatOptions, timeZone: string, at: string) =>
  new Intl.DateTimeFormat('en-US', { timeZone, ...options, hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(
    new Date(at),
  );
const DATE: Intl.DateTimeFormatOptions = { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' };

describe('formatClock and formatDateTime', () => {
  const zones = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
  // Around New York's fall-back hour and Lord Howe's half-hour change, seconds into a minute, a
  // Date and a string for the same instant.
  const instants = [
    '2026-11-01T05:59:59.999Z',
    '2026-11-01T06:00:00.000Z',
    '2026-11-01T06:00:59.000Z',
    '2026-04-04T14:59:30Z',
    '2026-04-04T15:00:30Z',
    '2026-11-21T09:42:07Z',
  ];

  it('gives ICU’s text for every zone and instant, the same again from its kept copy', () => {
    for (let round = 0; round < 2; round++) {
      for (const tz of zones) {
        for (const at of instants) {
          expect(formatClock(at, tz), `${tz} ${at}`).to.equal(icu({}, tz, at));
          expect(formatClock(new Date(at), tz)).to.equal(icu({}, tz, at));
          expect(formatDateTime(at, tz), `${tz} ${at}`).to.equal(icu(DATE, tz, at));
        }
      }
    }
  });

  it('formats a date before 1972 as ICU does', () => {
    const at = '1960-06-01T12:00:20Z';
    expect(formatClock(at, 'Africa/Monrovia')).to.equal(icu({}, 'Africa/Monrovia', at));
  });

  it('throws for an invalid date, as Intl does', () => {
    expect(() => formatClock('not a date', 'UTC')).to.throw(RangeError);
    expect(() => formatDateTime(new Date(NaN), 'UTC')).to.throw(RangeError);
  });
});

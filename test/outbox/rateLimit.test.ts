import { expect } from 'chai';
import {
  type RateWindow,
  SlidingWindowLimiter,
  TEAMS_CONVERSATION_LIMITS,
} from '../../src/outbox/rateLimit.js';
import { seededRandom } from '../../src/seededRandom.js';

/** The limiter's rule, spelled out over every send ever recorded: what it must answer. */
function referenceFreeAt(windows: RateWindow[], times: number[], now: number): number {
  let at = now;
  for (const w of windows) {
    const inWindow = [...times].sort((a, b) => a - b).filter((t) => t > now - w.windowMs);
    if (w.max > 0 && inWindow.length >= w.max)
      at = Math.max(at, inWindow[inWindow.length - w.max]! + w.windowMs);
  }
  return at;
}

describe('rateLimit', () => {
  it('lets 7 sends through in a second, then waits until the first leaves the window', () => {
    const limiter = new SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS);
    for (let i = 0; i < 7; i++) {
      expect(limiter.freeAt('c', 1_000 + i * 10)).to.equal(1_000 + i * 10);
      limiter.record('c', 1_000 + i * 10);
    }
    expect(limiter.freeAt('c', 1_100)).to.equal(2_000);
    expect(limiter.freeAt('other', 1_100)).to.equal(1_100);
  });

  it('holds a conversation at 60 sends in 30 seconds', () => {
    const limiter = new SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS);
    for (let i = 0; i < 60; i++) limiter.record('c', i * 200); // 5 per second: under 7/s
    expect(limiter.freeAt('c', 12_000)).to.equal(30_000);
  });

  it('counts a send exactly one window old as gone', () => {
    const limiter = new SlidingWindowLimiter([{ max: 2, windowMs: 1_000 }]);
    limiter.record('c', 0);
    limiter.record('c', 500);
    expect(limiter.freeAt('c', 999)).to.equal(1_000);
    expect(limiter.freeAt('c', 1_000)).to.equal(1_000);
    // Pruned down to the send at 500, then to none: the key starts afresh.
    expect(limiter.freeAt('c', 1_500)).to.equal(1_500);
    limiter.record('c', 1_600);
    limiter.record('c', 1_700);
    expect(limiter.freeAt('c', 1_800)).to.equal(2_600);
  });

  it('keeps sends in order when the clock went back between them', () => {
    const limiter = new SlidingWindowLimiter([{ max: 2, windowMs: 1_000 }]);
    limiter.record('c', 500);
    limiter.record('c', 100);
    expect(limiter.freeAt('c', 600)).to.equal(1_100); // the send at 100 leaves first
  });

  for (const seed of [1, 2, 3])
    it(`answers as the rule over every send does, over random sends and questions (seed ${seed})`, () => {
      const random = seededRandom(seed);
      const windows = [
        { max: 3, windowMs: 200 },
        { max: 10, windowMs: 2_000 },
      ];
      const limiter = new SlidingWindowLimiter(windows);
      const sends = new Map<string, number[]>();
      let now = 0;
      for (let step = 0; step < 2_000; step++) {
        now += Math.floor(random() * 150);
        const key = `c${Math.floor(random() * 3)}`;
        const at = random() < 0.05 ? now - Math.floor(random() * 300) : now; // now and then, late
        if (random() < 0.5) {
          limiter.record(key, at);
          sends.set(key, [...(sends.get(key) ?? []), at]);
        } else {
          const expected = referenceFreeAt(windows, sends.get(key) ?? [], now);
          expect(limiter.freeAt(key, now), `step ${step}`).to.equal(expected);
        }
      }
    });
});

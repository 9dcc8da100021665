import { expect } from 'chai';
import { SlidingWindowLimiter, TEAMS_CONVERSATION_LIMITS } from '../../src/outbox/rateLimit.js';

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
});

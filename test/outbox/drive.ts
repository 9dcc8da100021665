// Runs an outbox on manual time: waits until it is idle, then jumps to the next timer, until
// nothing is pending.

import type { Outbox } from '../../src/outbox/outbox.js';
import type { ManualTimers } from '../../src/outbox/timers.js';

export async function drain(
  outbox: Outbox,
  timers: ManualTimers,
  maxSteps = 20_000,
): Promise<void> {
  for (let step = 0; step < maxSteps; step++) {
    await outbox.idle();
    if (outbox.pendingCount === 0) return;
    if (!timers.runNext()) throw new Error(`${outbox.pendingCount} items pending and no timer set`);
  }
  throw new Error(`outbox did not drain in ${maxSteps} steps`);
}

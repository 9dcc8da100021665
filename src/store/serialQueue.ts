// Runs async tasks one at a time, in call order: the store's eTag check and its write must not
// interleave with another batch's, or two "ifMatch" writers could both win.

/** A FIFO mutex for async work. */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `task` after every task queued before it; its result or error goes to the caller. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // The chain only orders tasks: each task's failure is delivered through `result` above, so the
    // chain itself must not reject (that would skip every later task).
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.tail;
  }
}

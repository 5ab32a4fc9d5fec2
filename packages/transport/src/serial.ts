/**
 * A clerk's operations one at a time, in call order (its sequence numbers need it). `refuse`
 * returns the error to reject with once the clerk is closed, or undefined; it is asked at the
 * call and again when the op's turn comes, so ops queued before a close never start.
 */
export class Serial {
  readonly #refuse: () => Error | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(refuse: () => Error | undefined) {
    this.#refuse = refuse;
  }

  /** Runs `op` after every earlier one settled. */
  run<T>(op: () => Promise<T>): Promise<T> {
    const refused = this.#refuse();
    if (refused !== undefined) return Promise.reject(refused);
    const run = this.#tail.then(() => {
      const late = this.#refuse();
      if (late !== undefined) throw late;
      return op();
    });
    // Not `run.catch(…)`: that would keep the last result (maybe a large value) alive.
    this.#tail = run.then(
      () => {},
      () => {},
    );
    return run;
  }
}

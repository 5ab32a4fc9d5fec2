import type { Clock } from './clock.js';

/** What `Interrupter.race` gives back when `interrupt()` ended the wait. */
export const INTERRUPTED: unique symbol = Symbol('interrupted');

/**
 * The wait in progress of something that waits on one thing at a time (a clerk's attempt, or
 * its pause between attempts), ended at once by `interrupt()`, which its `close()` calls: the
 * lifecycle's "rejects work in flight" without waiting for a call or a timer to run out.
 * Only the latest wait is interrupted; check your own closed flag after each one.
 */
export class Interrupter {
  #interrupt: (() => void) | undefined;

  /** `work`'s outcome, or `INTERRUPTED` as soon as `interrupt()` is called. */
  race<T>(work: Promise<T>): Promise<T | typeof INTERRUPTED> {
    return new Promise((resolve, reject) => {
      this.#interrupt = () => resolve(INTERRUPTED);
      work.then(
        (value) => {
          this.#interrupt = undefined;
          resolve(value);
        },
        (err: unknown) => {
          this.#interrupt = undefined;
          reject(err);
        },
      );
    });
  }

  /** Resolves after `ms` on `clock`, or at once (its timer cleared) when interrupted. */
  sleep(clock: Clock, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        this.#interrupt = undefined;
        resolve();
      }, ms);
      this.#interrupt = () => {
        clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends the wait in progress, if any. */
  interrupt(): void {
    this.#interrupt?.();
  }
}

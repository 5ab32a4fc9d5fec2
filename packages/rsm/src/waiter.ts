import type { RaftClock } from '@flotilla/raft';

/**
 * A promise rsm owes a caller of `submit` or `read`, settled exactly once: by its outcome, by
 * its timeout (on the injected clock), or by `close()`. Whatever comes second is ignored.
 */
export class Waiter<T> {
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (err: Error) => void;
  #settled = false;
  readonly #timer: unknown;
  readonly #clock: RaftClock;
  readonly #open: Set<Waiter<unknown>>;

  /**
   * Registers itself in `open` (what `close()` rejects) until settled, and rejects with
   * `onTimeout()` after `timeoutMs`.
   */
  constructor(
    clock: RaftClock,
    open: Set<Waiter<unknown>>,
    timeoutMs: number,
    onTimeout: () => Error,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#clock = clock;
    this.#open = open;
    open.add(this as Waiter<unknown>);
    this.#timer = clock.setTimeout(() => this.reject(onTimeout()), timeoutMs);
  }

  get settled(): boolean {
    return this.#settled;
  }

  resolve(value: T): void {
    if (this.#finish()) this.#resolve(value);
  }

  reject(err: Error): void {
    if (this.#finish()) this.#reject(err);
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#clock.clearTimeout(this.#timer);
    this.#open.delete(this as Waiter<unknown>);
    return true;
  }
}

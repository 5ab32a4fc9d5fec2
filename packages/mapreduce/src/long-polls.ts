import type { Clock, TimerHandle } from '@flotilla/transport';
import type { TaskReply } from './protocol.js';

interface Waiter {
  readonly resolve: (reply: TaskReply) => void;
  readonly timer: TimerHandle;
}

/**
 * `requestTask` calls held open while nothing can be handed out. Each is answered, in the
 * order they came, as soon as there is a reply for it, or `wait` after `timeoutMs`. Every
 * held call has exactly one timer, cleared when it is answered.
 */
export class LongPolls {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #waiters: Waiter[] = [];

  constructor(clock: Clock, timeoutMs: number) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  /** Holds one call; the promise settles with its reply. */
  hold(): Promise<TaskReply> {
    return new Promise<TaskReply>((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: this.#clock.setTimeout(() => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          resolve({ kind: 'wait' });
        }, this.#timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Answers held calls, oldest first, for as long as `next` has a reply. */
  serve(next: () => TaskReply | undefined): void {
    while (this.#waiters.length > 0) {
      const reply = next();
      if (reply === undefined) return;
      this.#answer(this.#waiters.shift() as Waiter, reply);
    }
  }

  /** Answers every held call with `reply` (the job is over, or the coordinator closes). */
  answerAll(reply: TaskReply): void {
    for (const waiter of this.#waiters.splice(0)) this.#answer(waiter, reply);
  }

  #answer(waiter: Waiter, reply: TaskReply): void {
    this.#clock.clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }
}

import type { ApplyMsg } from './core/ready.js';
import { ApplyListenerError } from './errors.js';

export type ApplyListener = (msg: ApplyMsg) => void;

/**
 * The node's apply stream: every message, in log order, to every listener.
 *
 * Invariant: no message is ever delivered to nobody before the first listener exists. Until
 * the first subscription (`options.onApply` or `node.onApply`) messages are held (the restart
 * snapshot first of all), the way the lab's unbuffered applyCh makes Raft wait for its reader;
 * the first subscription releases them one microtask later, to every listener subscribed by
 * then, ahead of anything applied since. So a listener subscribed right after
 * `await RaftNode.create(...)` sees the restart snapshot. After that the stream no longer
 * waits: a message applied while everyone has unsubscribed is not kept.
 *
 * A listener that throws stops the stream for good: the rest of that message's listeners and
 * every later message are skipped, and `onError` gets an `ApplyListenerError`.
 */
export class ApplyDelivery {
  readonly #listeners = new Set<ApplyListener>();
  readonly #onError: (err: ApplyListenerError) => void;
  /** Messages waiting for the first listener; undefined once they were released. */
  #held: ApplyMsg[] | undefined = [];
  #releasing = false;
  #stopped = false;

  constructor(onError: (err: ApplyListenerError) => void) {
    this.#onError = onError;
  }

  subscribe(listener: ApplyListener): () => void {
    this.#listeners.add(listener);
    if (this.#held !== undefined && !this.#releasing) {
      this.#releasing = true;
      queueMicrotask(() => this.#release());
    }
    return () => this.#listeners.delete(listener);
  }

  /**
   * Delivers `msgs` in order, or holds them behind what is held; false once the stream is
   * stopped (a listener threw, or `stop()`).
   */
  deliver(msgs: readonly ApplyMsg[]): boolean {
    if (this.#held !== undefined) {
      for (const msg of msgs) this.#held.push(msg); // a spread could pass too many arguments
      return !this.#stopped;
    }
    for (const msg of msgs) {
      for (const listener of this.#listeners) {
        if (this.#stopped) return false;
        try {
          listener(msg);
        } catch (cause) {
          this.#stopped = true;
          this.#onError(new ApplyListenerError(msg.index, cause));
          return false;
        }
      }
    }
    return !this.#stopped;
  }

  /** Stops delivery and drops what is held (the node was closed or failed). */
  stop(): void {
    this.#stopped = true;
    this.#held = undefined;
    this.#listeners.clear();
  }

  #release(): void {
    this.#releasing = false;
    const held = this.#held;
    // Everyone unsubscribed again before the release: keep holding for the next subscriber.
    if (held === undefined || this.#stopped || this.#listeners.size === 0) return;
    this.#held = undefined;
    this.deliver(held);
  }
}

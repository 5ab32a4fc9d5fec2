import type { RaftLogger } from './env.js';
import {
  type ApplyListenerError,
  InvariantViolationError,
  type StateListenerError,
} from './errors.js';

/** What `NodeFailures` needs from its node. */
export interface FailingNode {
  readonly me: number;
  readonly killed: boolean;
  kill(): void;
}

/**
 * What a node does when something fails, in one place:
 * - the core stops on an `InvariantViolationError` (its `ready()` throws it): the node stops and
 *   `onFatal` gets it.
 * - a save fails: the node stops and `onFatal` gets the persister's error — unless `close()`
 *   came first. Then the node was stopping anyway and nothing it acknowledged depends on that
 *   save (replies and applies wait for it), so the failure is only logged: an `onFatal` that
 *   restarts the node must not undo a `close()`. The persister keeps the failure (a
 *   FilePersister rejects every later save with `PersisterFailedError`).
 * - an apply listener throws: the node stops and `onFatal` gets the `ApplyListenerError`. The
 *   service may have applied part of the message; going on could make replicas diverge.
 * - a state-change listener throws: logged as a `StateListenerError`; the node goes on (see
 *   state-changes.ts).
 */
export class NodeFailures {
  readonly #node: FailingNode;
  readonly #logger: RaftLogger | undefined;
  readonly #onFatal: ((err: unknown) => void) | undefined;

  constructor(
    node: FailingNode,
    logger: RaftLogger | undefined,
    onFatal: ((err: unknown) => void) | undefined,
  ) {
    this.#node = node;
    this.#logger = logger;
    this.#onFatal = onFatal;
  }

  /** The Ready loop threw: the save failed, or the core found an invariant broken. */
  loopFailed(err: unknown): void {
    const closed = this.#node.killed;
    const message =
      err instanceof InvariantViolationError
        ? 'raft: invariant violated; stopping node'
        : closed
          ? 'raft: persist failed after close'
          : 'raft: persist failed; stopping node';
    this.#logger?.warn({ me: this.#node.me, error: String(err) }, message);
    if (!closed) this.#fatal(err);
  }

  applyListenerFailed(err: ApplyListenerError): void {
    if (this.#node.killed) return;
    this.#logger?.warn(
      { me: this.#node.me, index: err.index, error: String(err.cause) },
      'raft: apply listener threw; stopping node',
    );
    this.#fatal(err);
  }

  stateListenerFailed(err: StateListenerError): void {
    this.#logger?.warn(
      { me: this.#node.me, code: err.code, err, error: String(err.cause) },
      'raft: state-change listener threw; ignored',
    );
  }

  /** Stops the node, then tells `onFatal`; if that throws, it surfaces uncaught, not as another failure of the node. */
  #fatal(err: unknown): void {
    this.#node.kill();
    try {
      this.#onFatal?.(err);
    } catch (thrown) {
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }
}

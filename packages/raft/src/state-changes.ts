import type { Role } from './core/raft.js';
import { StateListenerError } from './errors.js';

/** What a node knows of its place in the cluster; see `RaftNode.onStateChange`. */
export interface RaftNodeState {
  readonly term: number;
  readonly role: Role;
  readonly leaderId: number | null;
}

export type StateListener = (state: RaftNodeState) => void;

/**
 * The node's state-change subscription: tells listeners when term, role or known leader
 * differs from what they were last told.
 *
 * A listener that throws is reported to `onError` (the node logs it) and the others still run:
 * a state listener only observes volatile state, so its failure cannot make replicas diverge,
 * and since every replica runs the same listener code, stopping the node for it could take the
 * whole cluster down at once.
 */
export class StateChanges {
  readonly #listeners = new Set<StateListener>();
  readonly #onError: (err: StateListenerError) => void;
  #last: RaftNodeState;

  constructor(initial: RaftNodeState, onError: (err: StateListenerError) => void) {
    this.#last = initial;
    this.#onError = onError;
  }

  subscribe(listener: StateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener about `state` if it differs from the last state they were told. */
  emit(state: RaftNodeState): void {
    const last = this.#last;
    if (state.term === last.term && state.role === last.role && state.leaderId === last.leaderId) {
      return;
    }
    this.#last = state;
    for (const listener of this.#listeners) {
      try {
        listener(state);
      } catch (cause) {
        this.#onError(new StateListenerError(cause));
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

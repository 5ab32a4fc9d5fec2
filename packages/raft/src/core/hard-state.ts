import type { HardState } from '../persister/persister.js';

/**
 * currentTerm and votedFor: Figure 2's persistent state besides the log, and whether either
 * changed since the last Ready (then that Ready persists them before anything it holds may
 * leave). The term only grows; a vote is cast at most once per term.
 */
export class TermAndVote {
  #term: number;
  #votedFor: number | null;
  #dirty = false;

  constructor(state: HardState | undefined) {
    this.#term = state?.term ?? 0;
    this.#votedFor = state?.votedFor ?? null;
  }

  get term(): number {
    return this.#term;
  }

  get votedFor(): number | null {
    return this.#votedFor;
  }

  /** Changed since the last `take()`. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Moves to `term` if it is higher, with no vote in it; returns whether it was. */
  advanceTo(term: number): boolean {
    if (term <= this.#term) return false;
    this.#term = term;
    this.#votedFor = null;
    this.#dirty = true;
    return true;
  }

  /** Votes for `candidate` in the current term (the caller checked it may). */
  voteFor(candidate: number): void {
    if (this.#votedFor === candidate) return;
    this.#votedFor = candidate;
    this.#dirty = true;
  }

  /** The hard state for the next Ready's persist, if it changed; it counts as handed over. */
  take(): HardState | undefined {
    if (!this.#dirty) return undefined;
    this.#dirty = false;
    return { term: this.#term, votedFor: this.#votedFor };
  }
}

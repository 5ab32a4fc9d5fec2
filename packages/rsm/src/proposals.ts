import type { EntryOutcome } from './applier.js';
import { LeadershipLostError } from './errors.js';

/** Someone waiting for the entry this server proposed at an index, as leader of `term`. */
export interface Proposal {
  readonly term: number;
  /** The entry proposed was applied; runs inside the apply stream, so it must not throw. */
  applied(outcome: EntryOutcome): void;
  /** It can no longer be told whether the entry will apply. */
  lost(err: LeadershipLostError): void;
}

/**
 * Proposals in flight, by log index.
 *
 * An entry is identified by (index, term) (the Log Matching Property), and this server
 * proposes at most one entry per index in a term. So the entry applied at a proposal's index
 * is the proposal's own exactly when its term is the proposal's; any other entry there (a
 * later leader's, or its no-op) means the proposal was overwritten in this log. Whether it
 * could still commit elsewhere is unknown from here, hence `LeadershipLostError`, never a
 * result and never "not applied".
 */
export class Proposals {
  readonly #byIndex = new Map<number, Proposal>();

  add(index: number, proposal: Proposal): void {
    // An older proposal at this index: this server's log was cut back to below it since.
    this.#lose(index);
    this.#byIndex.set(index, proposal);
  }

  /** The entry at `index` of `term` was applied (`outcome` undefined: a no-op or foreign entry). */
  applied(index: number, term: number, outcome: EntryOutcome | undefined): void {
    const proposal = this.#byIndex.get(index);
    if (proposal === undefined) return;
    this.#byIndex.delete(index);
    if (proposal.term === term && outcome !== undefined) proposal.applied(outcome);
    else proposal.lost(new LeadershipLostError(index, proposal.term));
  }

  /** A snapshot replaced the log through `index`: what was proposed there is unknown from here. */
  restored(index: number): void {
    for (const at of [...this.#byIndex.keys()]) if (at <= index) this.#lose(at);
  }

  /**
   * This server's term or role changed. A proposal of another term, or any proposal once this
   * server is not the leader, may or may not commit under the next leader.
   */
  leadershipChanged(term: number, isLeader: boolean): void {
    for (const [at, proposal] of [...this.#byIndex]) {
      if (!isLeader || proposal.term !== term) this.#lose(at);
    }
  }

  /** Forgets every proposal (their waiters were rejected by the caller). */
  clear(): void {
    this.#byIndex.clear();
  }

  get size(): number {
    return this.#byIndex.size;
  }

  #lose(index: number): void {
    const proposal = this.#byIndex.get(index);
    if (proposal === undefined) return;
    this.#byIndex.delete(index);
    proposal.lost(new LeadershipLostError(index, proposal.term));
  }
}

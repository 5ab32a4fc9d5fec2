import type { Progress } from './progress.js';
import { hasQuorum } from './quorum.js';
import type { ReadOutcome } from './ready.js';

interface PendingRead {
  readonly id: number;
  /** The leader's commitIndex when the read was asked: what the read may observe. */
  readonly index: number;
  /** The read round whose acknowledgement by a majority confirms it. */
  readonly round: number;
}

/**
 * ReadIndex (Raft thesis §6.4; etcd-io/raft's read_only.go): a leader answers a linearizable
 * read with its commitIndex once a majority has acknowledged a heartbeat sent after the read
 * was asked. That proves it was still the leader after the read arrived, so no write that
 * completed before the read can be missing from that index.
 *
 * Rounds are leader-local and only grow. Every AppendEntries and InstallSnapshot a leader
 * sends carries the current round (`OutgoingRequest.round`); each follower's
 * `Progress.ackedRound` is the highest round it has answered. Reads asked between two Readies
 * share one round, started from ready() (see `takeRoundRequest`).
 */
export class ReadIndex {
  /** The cluster's size. */
  readonly #voters: number;
  #round = 0;
  #roundRequested = false;
  /** Reads waiting for their round, oldest first (so their rounds never decrease). */
  #pending: PendingRead[] = [];
  /** Reads asked before this leader committed an entry of its term (its no-op), oldest first. */
  #deferred: number[] = [];
  #outcomes: ReadOutcome[] = [];

  constructor(voters: number) {
    this.#voters = voters;
  }

  /** The round that requests sent now confirm leadership for. */
  get round(): number {
    return this.#round;
  }

  /** Outcomes are waiting for the next Ready, or reads are waiting for a round to start. */
  get hasWork(): boolean {
    return this.#roundRequested || this.#outcomes.length > 0;
  }

  /**
   * A read asked of this server. A follower or candidate refuses it (`not-leader`). A leader
   * reads at its commitIndex once that index is of its own term: only then does it know all
   * that its predecessors committed (thesis §6.4). Before that, a leader whose no-op is on
   * its way (noopOnElection) holds the read until the no-op commits (`committedInTerm`); one
   * without refuses it (`not-ready`: the service must get an entry committed first).
   */
  ask(
    id: number,
    server: {
      readonly isLeader: boolean;
      readonly commitIndex: number;
      readonly committedInTerm: boolean;
      readonly noopOnElection: boolean;
    },
  ): void {
    if (!server.isLeader) this.reject(id, 'not-leader');
    else if (server.committedInTerm) this.#request(id, server.commitIndex);
    else if (server.noopOnElection) this.#deferred.push(id);
    else this.reject(id, 'not-ready');
  }

  /**
   * A read at `commitIndex` (of the leader's term). It waits for the next round, which starts
   * after it; a one-server cluster answers at once.
   */
  #request(id: number, commitIndex: number): void {
    if (hasQuorum(this.#voters, 1)) {
      this.#outcomes.push({ id, ok: true, index: commitIndex });
      return;
    }
    this.#pending.push({ id, index: commitIndex, round: this.#round + 1 });
    this.#roundRequested = true;
  }

  /**
   * The leader committed through `commitIndex`, an entry of its own term: its commitIndex now
   * covers every write completed before any deferred read was asked (Leader Completeness; it
   * commits nothing of its own before this entry), so each is a read at `commitIndex`.
   */
  committedInTerm(commitIndex: number): void {
    const deferred = this.#deferred;
    this.#deferred = [];
    for (const id of deferred) this.#request(id, commitIndex);
  }

  reject(id: number, reason: 'not-leader' | 'not-ready'): void {
    this.#outcomes.push({ id, ok: false, reason });
  }

  /**
   * Whether reads asked since the last Ready want a heartbeat round; clears the request. The
   * leader then opens the round with `nextRound` and sends it; any other role sends nothing.
   */
  takeRoundRequest(): boolean {
    const requested = this.#roundRequested;
    this.#roundRequested = false;
    return requested;
  }

  nextRound(): void {
    this.#round++;
  }

  /** Answers the reads whose round a majority (the leader included) has acknowledged. */
  confirm(progress: readonly (Progress | undefined)[]): void {
    while (this.#pending.length > 0) {
      const read = this.#pending[0] as PendingRead;
      let acks = 1;
      for (const follower of progress) {
        if (follower !== undefined && follower.ackedRound >= read.round) acks++;
      }
      if (!hasQuorum(this.#voters, acks)) return;
      this.#pending.shift();
      this.#outcomes.push({ id: read.id, ok: true, index: read.index });
    }
  }

  /** Leadership was lost (or never held): no waiting read can be confirmed any more. */
  failAll(): void {
    for (const id of this.#deferred) this.#outcomes.push({ id, ok: false, reason: 'not-leader' });
    for (const read of this.#pending)
      this.#outcomes.push({ id: read.id, ok: false, reason: 'not-leader' });
    this.#deferred = [];
    this.#pending = [];
  }

  /** The outcomes for the next Ready, in the order they were decided. */
  takeOutcomes(): ReadOutcome[] {
    const outcomes = this.#outcomes;
    this.#outcomes = [];
    return outcomes;
  }
}

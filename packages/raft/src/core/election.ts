import { majorityOf, type RaftCoreConfig } from './config.js';
import type { RaftLog } from './log.js';
import type { RequestVoteArgs } from './messages.js';
import type { OutgoingRequest } from './ready.js';

type ElectionConfig = Pick<RaftCoreConfig, 'me' | 'peerCount' | 'electionTicks' | 'random'>;

/**
 * The mechanics of leader election (§5.2): the randomized election timer, and asking for and
 * counting the votes of a campaign or pre-campaign (thesis §9.6). RaftCore decides when to
 * campaign and which role to take; this keeps the time and the tally.
 */
export class Election {
  readonly #config: ElectionConfig;
  readonly #majority: number;
  readonly #send: (request: OutgoingRequest) => void;
  /**
   * Ticks since the timer was reset (this server granted a vote, heard from the leader or
   * campaigned) or restarted (it became leader, or ran a check-quorum).
   */
  #elapsed = 0;
  /** Drawn anew on every reset, so that servers rarely time out together and split the vote. */
  #timeout = 0;
  /** Who granted their vote in the current (pre-)campaign, this server included. */
  #votes = new Set<number>();

  constructor(config: ElectionConfig, send: (request: OutgoingRequest) => void) {
    this.#config = config;
    this.#majority = majorityOf(config.peerCount);
    this.#send = send;
    this.reset();
  }

  get elapsed(): number {
    return this.#elapsed;
  }

  /** The election timeout has passed without a reset. */
  get expired(): boolean {
    return this.#elapsed >= this.#timeout;
  }

  tick(): void {
    this.#elapsed++;
  }

  /** Starts a new timeout, drawn from [electionTicks, 2 × electionTicks). */
  reset(): void {
    this.#elapsed = 0;
    this.#timeout =
      this.#config.electionTicks + this.#config.random.int(this.#config.electionTicks);
  }

  /** Counts from zero again with the same timeout (a leader's check-quorum period). */
  restart(): void {
    this.#elapsed = 0;
  }

  /** Opens a new tally with this server's own vote; true if that alone is a majority. */
  voteForSelf(): boolean {
    this.#votes = new Set([this.#config.me]);
    return this.#votes.size >= this.#majority;
  }

  /** Counts `peer`'s vote; true once a majority has granted theirs. */
  grant(peer: number): boolean {
    this.#votes.add(peer);
    return this.#votes.size >= this.#majority;
  }

  /** Asks every peer for its vote in `term` (with `preVote`: whether it would vote for us). */
  requestVotes(term: number, preVote: boolean, log: RaftLog): void {
    const me = this.#config.me;
    const args: RequestVoteArgs = {
      term,
      candidateId: me,
      lastLogIndex: log.lastIndex,
      lastLogTerm: log.lastTerm,
      ...(preVote ? { preVote } : {}),
    };
    for (let peer = 0; peer < this.#config.peerCount; peer++) {
      if (peer !== me) this.#send({ to: peer, method: 'RequestVote', args, round: 0 });
    }
  }
}

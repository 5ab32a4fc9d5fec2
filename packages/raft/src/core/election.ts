import type { RaftCoreConfig } from './config.js';
import type { RaftLog } from './log.js';
import type { RequestVoteArgs } from './messages.js';
import { type VoteResult, voteResult } from './quorum.js';
import type { OutgoingRequest } from './ready.js';

type ElectionConfig = Pick<RaftCoreConfig, 'me' | 'peerCount' | 'electionTicks' | 'random'>;

/**
 * The mechanics of leader election (§5.2): the randomized election timer, and asking for and
 * counting the votes of a campaign or pre-campaign (thesis §9.6). RaftCore decides when to
 * campaign and which role to take; this keeps the time and the tally.
 */
export class Election {
  readonly #config: ElectionConfig;
  readonly #send: (request: OutgoingRequest) => void;
  /**
   * Ticks since the timer was reset (this server granted a vote, heard from the leader or
   * campaigned) or restarted (it became leader, or ran a check-quorum).
   */
  #elapsed = 0;
  /** Drawn anew on every reset, so that servers rarely time out together and split the vote. */
  #timeout = 0;
  /** Who granted their vote in the current (pre-)campaign, this server included. */
  #granted = new Set<number>();
  /** Who refused it. */
  #refused = new Set<number>();

  constructor(config: ElectionConfig, send: (request: OutgoingRequest) => void) {
    this.#config = config;
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

  /** Opens a new tally with this server's own vote; `won` if that alone is a majority. */
  voteForSelf(): VoteResult {
    this.#granted = new Set([this.#config.me]);
    this.#refused = new Set();
    return this.#result();
  }

  /**
   * Counts `peer`'s answer, once per peer. A grant outweighs a refusal from the same peer: a
   * request delivered twice may be refused while a lease holds and granted after.
   */
  record(peer: number, granted: boolean): VoteResult {
    if (granted) {
      this.#granted.add(peer);
      this.#refused.delete(peer);
    } else if (!this.#granted.has(peer)) {
      this.#refused.add(peer);
    }
    return this.#result();
  }

  #result(): VoteResult {
    return voteResult(this.#config.peerCount, this.#granted.size, this.#refused.size);
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

import { InvariantViolationError } from '../errors.js';
import type { PersistedState } from '../persister/persister.js';
import { type RaftCoreConfig, validateCoreConfig } from './config.js';
import { Election } from './election.js';
import { TermAndVote } from './hard-state.js';
import type { RaftLog } from './log.js';
import { LogState } from './log-state.js';
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  InstallSnapshotReply,
  RaftArgs,
  RaftMethod,
  RaftReplies,
  RequestVoteArgs,
  RequestVoteReply,
} from './messages.js';
import { ReadIndex } from './read-index.js';
import { Outbox, type OutgoingRequest, type Ready } from './ready.js';
import { Replication } from './replication.js';
import { IncomingSnapshot } from './snapshot-transfer.js';

export type { RaftCoreConfig } from './config.js';

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

/**
 * The Raft protocol as a synchronous state machine (Figure 2 of the extended paper, plus fast
 * backup, batching, pipelining, InstallSnapshot, ReadIndex and CheckQuorum). It never touches
 * a clock, socket or disk: the driver feeds it ticks, proposals and messages, and takes back
 * `Ready` batches of what to persist, send and apply (see ready.ts).
 *
 * This class keeps the role: it receives RPCs, applies the rules about terms, changes role
 * and assembles Readies. The rest is delegated: term and vote to `TermAndVote`
 * (hard-state.ts), the log with its persist, commit and apply positions to `LogState`
 * (log-state.ts), the election timer and vote count to `Election` (election.ts), a leader's
 * replication to `Replication` (replication.ts), a snapshot arriving in chunks to
 * `IncomingSnapshot` (snapshot-transfer.ts), linearizable reads to `ReadIndex`
 * (read-index.ts), what to send to the `Outbox` (ready.ts). An input that breaks an invariant
 * (see InvariantViolationError) stops it for good.
 *
 * Invariants kept here:
 * - a reply or request never leaves before the state it reflects is persisted (Ready order;
 *   the requests that reflect none are named in `requestsBeforePersist`, see ready.ts);
 * - the leader counts its own log toward commitment only up to what is persisted;
 * - only entries of the current term are committed by counting replicas (§5.4.2, Figure 8).
 */
export class RaftCore {
  readonly me: number;
  readonly #config: RaftCoreConfig;

  readonly #hardState: TermAndVote;
  readonly #logState: LogState;
  /** `#logState.log`, for brevity: append to it directly, change it otherwise via #logState. */
  readonly #log: RaftLog;

  #role: Role = 'follower';
  #leaderId: number | null = null;
  readonly #election: Election;
  /** Defined exactly while the role is 'leader'; a new one for each term this server leads. */
  #replication: Replication | undefined;
  /** Entries were proposed since the last Ready; they are sent with the next one (batching). */
  #replicationPending = false;
  readonly #readIndex: ReadIndex;
  /** A snapshot being received from the leader, chunk by chunk. */
  readonly #incomingSnapshot = new IncomingSnapshot();
  /** Set once an input broke an invariant: the core takes no more input; ready() throws it. */
  #violation: InvariantViolationError | undefined;

  /** Outgoing requests and replies for the next Ready. */
  readonly #outbox = new Outbox();

  /** Throws RaftConfigError (naming the option) for a config that cannot work. */
  constructor(config: RaftCoreConfig, state?: PersistedState) {
    validateCoreConfig(config);
    this.me = config.me;
    this.#config = config;
    this.#logState = new LogState(state);
    this.#log = this.#logState.log;
    this.#hardState = new TermAndVote(state?.hardState);
    this.#readIndex = new ReadIndex(config.peerCount);
    this.#election = new Election(config, this.#outbox.send);
  }

  get term(): number {
    return this.#hardState.term;
  }

  get role(): Role {
    return this.#role;
  }

  get isLeader(): boolean {
    return this.#role === 'leader';
  }

  get leaderId(): number | null {
    return this.#leaderId;
  }

  get commitIndex(): number {
    return this.#logState.commitIndex;
  }

  get lastIndex(): number {
    return this.#log.lastIndex;
  }

  get snapshotIndex(): number {
    return this.#log.snapshotIndex;
  }

  get votedFor(): number | null {
    return this.#hardState.votedFor;
  }

  /** One unit of logical time: drives elections, heartbeats and check-quorum. */
  tick(): void {
    if (this.#violation !== undefined) return;
    this.#election.tick();
    const leader = this.#replication;
    if (leader === undefined) {
      if (this.#election.expired) {
        if (this.#config.preVote) this.#preCampaign();
        else this.#campaign();
      }
      return;
    }
    if (this.#config.checkQuorum && this.#election.elapsed >= this.#config.electionTicks) {
      this.#election.restart();
      if (!leader.quorumActive()) {
        this.#becomeFollower(this.term, null);
        return;
      }
    }
    leader.tick();
  }

  /** Appends a command if this server is the leader; it is sent with the next Ready. */
  propose(command: unknown): { index: number; term: number; isLeader: boolean } {
    if (this.#role !== 'leader' || this.#violation !== undefined)
      return { index: -1, term: this.term, isLeader: false };
    const index = this.#log.append({ term: this.term, command });
    this.#replicationPending = true;
    return { index, term: this.term, isLeader: true };
  }

  /**
   * The service's snapshot of everything up to `index` (which it has applied). Entries up to
   * there are dropped from the log. Ignored for an index already covered or not yet applied.
   */
  compact(index: number, data: Uint8Array): boolean {
    return this.#logState.compact(index, data);
  }

  /**
   * Asks to confirm leadership for a linearizable read (rules in read-index.ts); the outcome
   * comes in a Ready's `reads`. Reads asked before the next Ready share one heartbeat round.
   */
  requestRead(id: number): void {
    const commitIndex = this.#logState.commitIndex;
    this.#readIndex.ask(id, {
      isLeader: this.#role === 'leader',
      commitIndex,
      committedInTerm: this.#log.term(commitIndex) === this.term,
      noopOnElection: this.#config.noopOnElection,
    });
  }

  // ---- incoming RPCs ------------------------------------------------------------------------

  /**
   * An RPC from a peer. Its reply comes out in a Ready's `replies` under `requestId`. One that
   * breaks an invariant (see InvariantViolationError) gets no reply and stops the core.
   */
  stepRequest<M extends RaftMethod>(method: M, args: RaftArgs[M], requestId: number): void {
    if (this.#violation !== undefined) return;
    let reply: RaftReplies[RaftMethod];
    try {
      reply = this.#handleRequest(method, args);
    } catch (err) {
      if (!(err instanceof InvariantViolationError)) throw err;
      this.#violation = err;
      return;
    }
    this.#outbox.reply(requestId, reply);
  }

  #handleRequest<M extends RaftMethod>(method: M, args: RaftArgs[M]): RaftReplies[RaftMethod] {
    switch (method) {
      case 'RequestVote':
        return this.#handleRequestVote(args as RequestVoteArgs);
      case 'AppendEntries':
        return this.#handleAppendEntries(args as AppendEntriesArgs);
      case 'InstallSnapshot':
        return this.#handleInstallSnapshot(args as InstallSnapshotArgs);
      default: {
        const unreachable: never = method;
        throw new TypeError(`unknown Raft method ${String(unreachable)}`);
      }
    }
  }

  #handleRequestVote(args: RequestVoteArgs): RequestVoteReply {
    if (args.preVote === true) {
      const grant =
        args.term > this.term &&
        !this.#inLease() &&
        this.#log.isUpToDate(args.lastLogIndex, args.lastLogTerm);
      return { term: this.term, voteGranted: grant };
    }
    // Within an election timeout of hearing from a live leader, a vote request is a disruption
    // (a server that was cut off), not a sign the leader is gone: ignore it (thesis §4.2.3).
    if (args.term > this.term && this.#inLease()) return { term: this.term, voteGranted: false };
    if (args.term > this.term) this.#becomeFollower(args.term, null);
    const votedFor = this.#hardState.votedFor;
    const grant =
      args.term === this.term &&
      (votedFor === null || votedFor === args.candidateId) &&
      this.#log.isUpToDate(args.lastLogIndex, args.lastLogTerm);
    if (grant) {
      this.#hardState.voteFor(args.candidateId);
      this.#election.reset();
    }
    return { term: this.term, voteGranted: grant };
  }

  #handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply {
    if (args.term < this.term)
      return { term: this.term, success: false, conflictTerm: 0, conflictIndex: 0 };
    this.#followLeader(args.term, args.leaderId);
    return this.#logState.appendEntries(args, this.term);
  }

  /** A chunk of the leader's snapshot (snapshot-transfer.ts); the last one installs it. */
  #handleInstallSnapshot(args: InstallSnapshotArgs): InstallSnapshotReply {
    if (args.term < this.term) return { term: this.term, done: false, nextOffset: 0 };
    this.#followLeader(args.term, args.leaderId);
    const { done, nextOffset, data } = this.#incomingSnapshot.receive(
      args,
      this.#logState.commitIndex,
    );
    if (data !== undefined) {
      this.#logState.installSnapshot(args.lastIncludedIndex, args.lastIncludedTerm, data);
    }
    return { term: this.term, done, nextOffset };
  }

  // ---- outcomes of our own RPCs -------------------------------------------------------------

  /** The reply to a request this core sent (as `request`). */
  stepResponse<M extends RaftMethod>(request: OutgoingRequest<M>, reply: RaftReplies[M]): void {
    if (reply.term > this.term) {
      this.#becomeFollower(reply.term, null);
      return;
    }
    if (request.method === 'RequestVote' && (request.args as RequestVoteArgs).preVote === true) {
      this.#onPreVote(request as OutgoingRequest<'RequestVote'>, reply as RequestVoteReply);
      return;
    }
    if (request.args.term !== this.term) return;
    switch (request.method) {
      case 'RequestVote':
        this.#onVote(request.to, reply as RequestVoteReply);
        break;
      case 'AppendEntries':
        this.#replication?.onAppendReply(
          request as OutgoingRequest<'AppendEntries'>,
          reply as AppendEntriesReply,
        );
        break;
      case 'InstallSnapshot':
        this.#replication?.onSnapshotReply(
          request as OutgoingRequest<'InstallSnapshot'>,
          reply as InstallSnapshotReply,
        );
        break;
      default: {
        const unreachable: never = request.method;
        throw new TypeError(`unknown Raft method ${String(unreachable)}`);
      }
    }
  }

  /** A request this core sent got no reply (lost, timed out, peer down). */
  stepFailure(request: OutgoingRequest): void {
    if (request.args.term === this.term) this.#replication?.onFailure(request);
  }

  // A lost tally changes nothing: the server tries again when its election timer runs out.

  #onPreVote(request: OutgoingRequest<'RequestVote'>, reply: RequestVoteReply): void {
    if (this.#role !== 'precandidate' || request.args.term !== this.term + 1) return;
    if (this.#election.record(request.to, reply.voteGranted) === 'won') this.#campaign();
  }

  #onVote(from: number, reply: RequestVoteReply): void {
    if (this.#role !== 'candidate') return;
    if (this.#election.record(from, reply.voteGranted) === 'won') this.#becomeLeader();
  }

  // ---- roles --------------------------------------------------------------------------------

  /** A pre-vote round for term + 1: nothing is persisted and no one changes state. */
  #preCampaign(): void {
    this.#role = 'precandidate';
    this.#leaderId = null;
    this.#election.reset();
    this.#readIndex.failAll();
    if (this.#election.voteForSelf() === 'won') this.#campaign();
    else this.#election.requestVotes(this.term + 1, true, this.#log);
  }

  #campaign(): void {
    this.#role = 'candidate';
    this.#hardState.advanceTo(this.term + 1);
    this.#hardState.voteFor(this.me);
    this.#incomingSnapshot.discard();
    this.#leaderId = null;
    this.#election.reset();
    this.#readIndex.failAll();
    if (this.#election.voteForSelf() === 'won') this.#becomeLeader();
    else this.#election.requestVotes(this.term, false, this.#log);
  }

  /** A leader is known to be alive: this server heard from it within the minimum election timeout. */
  #inLease(): boolean {
    if (!this.#config.checkQuorum) return false;
    if (this.#role === 'leader') return true;
    return this.#leaderId !== null && this.#election.elapsed < this.#config.electionTicks;
  }

  #becomeLeader(): void {
    this.#role = 'leader';
    this.#leaderId = this.me;
    this.#election.restart();
    this.#replication = new Replication(
      this.#config,
      this.term,
      this.#logState,
      this.#readIndex,
      this.#outbox.send,
    );
    // After Replication is made, so every follower's nextIndex is at the no-op and the first
    // probe carries it.
    if (this.#config.noopOnElection)
      this.#log.append({ term: this.term, command: null, noop: true });
    this.#replication.broadcastHeartbeat();
  }

  #becomeFollower(term: number, leaderId: number | null): void {
    if (this.#hardState.advanceTo(term)) this.#incomingSnapshot.discard();
    this.#role = 'follower';
    this.#leaderId = leaderId;
    this.#replication = undefined;
    // No election timer reset here: seeing a higher term (e.g. from a candidate whose log is
    // behind ours) is no reason to wait longer, or stale candidates could keep the only
    // up-to-date server from ever campaigning. The timer resets on granting a vote, on hearing
    // from the current leader, and on campaigning (Figure 2).
    this.#readIndex.failAll();
  }

  /** An AppendEntries or InstallSnapshot from the leader of `term` (≥ ours). */
  #followLeader(term: number, leaderId: number): void {
    if (term > this.term || this.#role !== 'follower') this.#becomeFollower(term, leaderId);
    this.#leaderId = leaderId;
    this.#election.reset();
  }

  // ---- Ready --------------------------------------------------------------------------------

  hasReady(): boolean {
    return (
      this.#violation !== undefined ||
      this.#replicationPending ||
      this.#hardState.dirty ||
      this.#logState.hasWork ||
      this.#readIndex.hasWork ||
      this.#outbox.hasWork
    );
  }

  /**
   * Takes the pending batch of work; see `Ready` for the order the driver must follow. Throws
   * the InvariantViolationError that stopped the core, if one did.
   */
  ready(): Ready {
    if (this.#violation !== undefined) throw this.#violation;
    // Reads asked since the last Ready share one round; if leadership was lost, they failed.
    if (this.#readIndex.takeRoundRequest()) this.#replication?.startReadRound();
    if (this.#replicationPending) {
      this.#replicationPending = false;
      this.#replication?.sendAppends();
    }
    const persist = this.#logState.takeUnsaved(this.#hardState.take());
    const log = this.#log;
    return this.#outbox.take(
      persist,
      { index: log.lastIndex, term: log.lastTerm },
      this.#logState.takeCommitted(),
      this.#readIndex.takeOutcomes(),
    );
  }

  /** The driver finished `ready` (persisted, sent, applied). */
  advance(ready: Ready): void {
    const to = ready.persistedTo;
    if (to !== undefined && this.#logState.persisted(to)) this.#replication?.maybeCommit();
  }
}

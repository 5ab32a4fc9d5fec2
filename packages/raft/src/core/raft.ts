import type { PersistedState } from '../persister/persister.js';
import { majorityOf, type RaftCoreConfig } from './config.js';
import { Election } from './election.js';
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
import type { OutgoingReply, OutgoingRequest, Ready } from './ready.js';
import { Replication } from './replication.js';

export type { RaftCoreConfig } from './config.js';

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

/**
 * The Raft protocol as a synchronous state machine (Figure 2 of the extended paper, plus fast
 * backup, batching, pipelining, InstallSnapshot, ReadIndex and CheckQuorum). It never touches
 * a clock, socket or disk: the driver feeds it ticks, proposals and messages, and takes back
 * `Ready` batches of what to persist, send and apply (see ready.ts).
 *
 * This class keeps the term, the vote and the role: it receives RPCs, applies the rules about
 * terms, changes role and assembles Readies. The rest is delegated: the log with its persist,
 * commit and apply positions to `LogState` (log-state.ts), the election timer and vote count
 * to `Election` (election.ts), a leader's replication to `Replication` (replication.ts),
 * linearizable reads to `ReadIndex` (read-index.ts).
 *
 * Invariants kept here:
 * - a reply or request never leaves before the state it reflects is persisted (Ready order);
 * - the leader counts its own log toward commitment only up to what is persisted;
 * - only entries of the current term are committed by counting replicas (§5.4.2, Figure 8).
 */
export class RaftCore {
  readonly me: number;
  readonly #config: RaftCoreConfig;

  #term = 0;
  #votedFor: number | null = null;
  /** term or votedFor changed since the last Ready: persist them before anything leaves. */
  #hardStateDirty = false;
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

  /** Outgoing requests and replies for the next Ready. */
  #requests: OutgoingRequest[] = [];
  #replies: OutgoingReply[] = [];
  readonly #send = (request: OutgoingRequest): void => {
    this.#requests.push(request);
  };

  constructor(config: RaftCoreConfig, state?: PersistedState) {
    this.me = config.me;
    this.#config = config;
    this.#logState = new LogState(state);
    this.#log = this.#logState.log;
    this.#term = state?.hardState.term ?? 0;
    this.#votedFor = state?.hardState.votedFor ?? null;
    this.#readIndex = new ReadIndex(majorityOf(config.peerCount));
    this.#election = new Election(config, this.#send);
  }

  get term(): number {
    return this.#term;
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
    return this.#votedFor;
  }

  /** One unit of logical time: drives elections, heartbeats and check-quorum. */
  tick(): void {
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
        this.#becomeFollower(this.#term, null);
        return;
      }
    }
    leader.tick();
  }

  /** Appends a command if this server is the leader; it is sent with the next Ready. */
  propose(command: unknown): { index: number; term: number; isLeader: boolean } {
    if (this.#role !== 'leader') return { index: -1, term: this.#term, isLeader: false };
    const index = this.#log.append({ term: this.#term, command });
    this.#replicationPending = true;
    return { index, term: this.#term, isLeader: true };
  }

  /**
   * The service's snapshot of everything up to `index` (which it has applied). Entries up to
   * there are dropped from the log. Ignored for an index already covered or not yet applied.
   */
  compact(index: number, data: Uint8Array): boolean {
    return this.#logState.compact(index, data);
  }

  /** Asks to confirm leadership for a linearizable read; the outcome comes in a Ready's `reads`. */
  requestRead(id: number): void {
    const commitIndex = this.#logState.commitIndex;
    if (this.#role !== 'leader') this.#readIndex.reject(id, 'not-leader');
    // A new leader learns what its predecessors committed only once an entry of its own term
    // commits; until then its commitIndex may be behind (thesis §6.4).
    else if (this.#log.term(commitIndex) !== this.#term) this.#readIndex.reject(id, 'not-ready');
    // Reads requested before the next Ready share one heartbeat round (sent from ready()).
    else this.#readIndex.request(id, commitIndex);
  }

  // ---- incoming RPCs ------------------------------------------------------------------------

  /** An RPC from a peer. Its reply comes out in a Ready's `replies` under `requestId`. */
  stepRequest<M extends RaftMethod>(method: M, args: RaftArgs[M], requestId: number): void {
    let reply: RaftReplies[RaftMethod];
    switch (method) {
      case 'RequestVote':
        reply = this.#handleRequestVote(args as RequestVoteArgs);
        break;
      case 'AppendEntries':
        reply = this.#handleAppendEntries(args as AppendEntriesArgs);
        break;
      case 'InstallSnapshot':
        reply = this.#handleInstallSnapshot(args as InstallSnapshotArgs);
        break;
      default: {
        const unreachable: never = method;
        throw new TypeError(`unknown Raft method ${String(unreachable)}`);
      }
    }
    this.#replies.push({ requestId, reply });
  }

  #handleRequestVote(args: RequestVoteArgs): RequestVoteReply {
    if (args.preVote === true) {
      const grant =
        args.term > this.#term &&
        !this.#inLease() &&
        this.#log.isUpToDate(args.lastLogIndex, args.lastLogTerm);
      return { term: this.#term, voteGranted: grant };
    }
    // Within an election timeout of hearing from a live leader, a vote request is a disruption
    // (a server that was cut off), not a sign the leader is gone: ignore it (thesis §4.2.3).
    if (args.term > this.#term && this.#inLease()) return { term: this.#term, voteGranted: false };
    if (args.term > this.#term) this.#becomeFollower(args.term, null);
    const grant =
      args.term === this.#term &&
      (this.#votedFor === null || this.#votedFor === args.candidateId) &&
      this.#log.isUpToDate(args.lastLogIndex, args.lastLogTerm);
    if (grant) {
      if (this.#votedFor !== args.candidateId) this.#hardStateDirty = true;
      this.#votedFor = args.candidateId;
      this.#election.reset();
    }
    return { term: this.#term, voteGranted: grant };
  }

  #handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply {
    if (args.term < this.#term)
      return { term: this.#term, success: false, conflictTerm: 0, conflictIndex: 0 };
    this.#followLeader(args.term, args.leaderId);
    return this.#logState.appendEntries(args, this.#term);
  }

  #handleInstallSnapshot(args: InstallSnapshotArgs): InstallSnapshotReply {
    if (args.term < this.#term) return { term: this.#term };
    this.#followLeader(args.term, args.leaderId);
    if (args.lastIncludedIndex > this.#logState.commitIndex) {
      this.#logState.installSnapshot(args.lastIncludedIndex, args.lastIncludedTerm, args.data);
    }
    return { term: this.#term };
  }

  // ---- outcomes of our own RPCs -------------------------------------------------------------

  /** The reply to a request this core sent (as `request`). */
  stepResponse<M extends RaftMethod>(request: OutgoingRequest<M>, reply: RaftReplies[M]): void {
    if (reply.term > this.#term) {
      this.#becomeFollower(reply.term, null);
      return;
    }
    if (request.method === 'RequestVote' && (request.args as RequestVoteArgs).preVote === true) {
      this.#onPreVote(request as OutgoingRequest<'RequestVote'>, reply as RequestVoteReply);
      return;
    }
    if (request.args.term !== this.#term) return;
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
        this.#replication?.onSnapshotReply(request as OutgoingRequest<'InstallSnapshot'>);
        break;
      default: {
        const unreachable: never = request.method;
        throw new TypeError(`unknown Raft method ${String(unreachable)}`);
      }
    }
  }

  /** A request this core sent got no reply (lost, timed out, peer down). */
  stepFailure(request: OutgoingRequest): void {
    if (request.args.term === this.#term) this.#replication?.onFailure(request);
  }

  #onPreVote(request: OutgoingRequest<'RequestVote'>, reply: RequestVoteReply): void {
    if (this.#role !== 'precandidate' || request.args.term !== this.#term + 1 || !reply.voteGranted)
      return;
    if (this.#election.grant(request.to)) this.#campaign();
  }

  #onVote(from: number, reply: RequestVoteReply): void {
    if (this.#role !== 'candidate' || !reply.voteGranted) return;
    if (this.#election.grant(from)) this.#becomeLeader();
  }

  // ---- roles --------------------------------------------------------------------------------

  /** A pre-vote round for term + 1: nothing is persisted and no one changes state. */
  #preCampaign(): void {
    this.#role = 'precandidate';
    this.#leaderId = null;
    this.#election.reset();
    this.#readIndex.failAll();
    if (this.#election.voteForSelf()) this.#campaign();
    else this.#election.requestVotes(this.#term + 1, true, this.#log);
  }

  #campaign(): void {
    this.#role = 'candidate';
    this.#term++;
    this.#votedFor = this.me;
    this.#hardStateDirty = true;
    this.#leaderId = null;
    this.#election.reset();
    this.#readIndex.failAll();
    if (this.#election.voteForSelf()) this.#becomeLeader();
    else this.#election.requestVotes(this.#term, false, this.#log);
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
      this.#term,
      this.#logState,
      this.#readIndex,
      this.#send,
    );
    this.#replication.broadcastHeartbeat();
  }

  #becomeFollower(term: number, leaderId: number | null): void {
    if (term > this.#term) {
      this.#term = term;
      this.#votedFor = null;
      this.#hardStateDirty = true;
    }
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
    if (term > this.#term || this.#role !== 'follower') this.#becomeFollower(term, leaderId);
    this.#leaderId = leaderId;
    this.#election.reset();
  }

  // ---- Ready --------------------------------------------------------------------------------

  hasReady(): boolean {
    return (
      this.#replicationPending ||
      this.#hardStateDirty ||
      this.#logState.hasWork ||
      this.#readIndex.hasWork ||
      this.#requests.length > 0 ||
      this.#replies.length > 0
    );
  }

  /** Takes the pending batch of work; see `Ready` for the order the driver must follow. */
  ready(): Ready {
    // Reads asked since the last Ready share one round; if leadership was lost, they failed.
    if (this.#readIndex.takeRoundRequest()) this.#replication?.startReadRound();
    if (this.#replicationPending) {
      this.#replicationPending = false;
      this.#replication?.sendAppends();
    }
    const hardState = this.#hardStateDirty
      ? { term: this.#term, votedFor: this.#votedFor }
      : undefined;
    this.#hardStateDirty = false;
    const persist = this.#logState.takeUnsaved(hardState);
    const log = this.#log;
    const ready: Ready = {
      persist,
      persistedTo: persist === undefined ? undefined : { index: log.lastIndex, term: log.lastTerm },
      requests: this.#requests,
      replies: this.#replies,
      apply: this.#logState.takeCommitted(),
      reads: this.#readIndex.takeOutcomes(),
    };
    this.#requests = [];
    this.#replies = [];
    return ready;
  }

  /** The driver finished `ready` (persisted, sent, applied). */
  advance(ready: Ready): void {
    const to = ready.persistedTo;
    if (to !== undefined && this.#logState.persisted(to)) this.#replication?.maybeCommit();
  }
}

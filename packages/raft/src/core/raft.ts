import type { RaftRandom } from '../env.js';
import type { PersistedState, PersistUpdate } from '../persister/persister.js';
import { RaftLog } from './log.js';
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
import { Progress, quorumIndex } from './progress.js';
import type { ApplyMsg, OutgoingReply, OutgoingRequest, ReadOutcome, Ready } from './ready.js';

export interface RaftCoreConfig {
  readonly me: number;
  readonly peerCount: number;
  /** Election timeout, in ticks, is drawn from [electionTicks, 2 × electionTicks). */
  readonly electionTicks: number;
  /** A leader sends each follower an AppendEntries at least this often, in ticks. */
  readonly heartbeatTicks: number;
  readonly maxEntriesPerAppend: number;
  /** AppendEntries outstanding per follower while streaming (pipelining depth). */
  readonly maxInflightAppends: number;
  /** A leader that has not heard from a majority within an election timeout steps down. */
  readonly checkQuorum: boolean;
  /** Run a pre-vote round before raising the term (Raft thesis §9.6). */
  readonly preVote: boolean;
  readonly random: RaftRandom;
}

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

/**
 * The Raft protocol as a synchronous state machine (Figure 2 of the extended paper, plus fast
 * backup, batching, pipelining, InstallSnapshot, ReadIndex and CheckQuorum). It never touches
 * a clock, socket or disk: the driver feeds it ticks, proposals and messages, and takes back
 * `Ready` batches of what to persist, send and apply (see ready.ts).
 *
 * Invariants kept here:
 * - a reply or request never leaves before the state it reflects is persisted (Ready order);
 * - the leader counts its own log toward commitment only up to what is persisted;
 * - only entries of the current term are committed by counting replicas (§5.4.2, Figure 8).
 */
export class RaftCore {
  readonly me: number;
  readonly #config: RaftCoreConfig;
  readonly #majority: number;

  #term = 0;
  #votedFor: number | null = null;
  readonly #log: RaftLog;
  #snapshotData: Uint8Array = new Uint8Array(0);

  #role: Role = 'follower';
  #leaderId: number | null = null;
  #commitIndex: number;
  /** Highest index handed to the service for applying. */
  #appliedTo: number;
  /** Highest index known durable. */
  #persistedIndex: number;
  /** Lowest index not yet handed to the persister. */
  #unstableFrom: number;
  #hardStateDirty = false;
  #snapshotDirty = false;
  #snapshotToApply = false;
  #replicationPending = false;
  #readRoundPending = false;

  #votes = new Set<number>();
  #progress: Array<Progress | undefined> = [];
  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #electionTimeout = 0;

  #readRound = 0;
  #pendingReads: Array<{ id: number; index: number; round: number }> = [];

  #requests: OutgoingRequest[] = [];
  #replies: OutgoingReply[] = [];
  #reads: ReadOutcome[] = [];

  constructor(config: RaftCoreConfig, state?: PersistedState) {
    this.me = config.me;
    this.#config = config;
    this.#majority = Math.floor(config.peerCount / 2) + 1;
    const snapshot = state?.snapshot;
    this.#log = new RaftLog(snapshot?.index ?? 0, snapshot?.term ?? 0, state?.entries ?? []);
    if (snapshot !== undefined) this.#snapshotData = snapshot.data;
    this.#term = state?.hardState.term ?? 0;
    this.#votedFor = state?.hardState.votedFor ?? null;
    this.#commitIndex = this.#log.snapshotIndex;
    this.#appliedTo = this.#log.snapshotIndex;
    this.#persistedIndex = this.#log.lastIndex;
    this.#unstableFrom = this.#log.lastIndex + 1;
    this.#resetElectionTimer();
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
    return this.#commitIndex;
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
    this.#electionElapsed++;
    if (this.#role !== 'leader') {
      if (this.#electionElapsed >= this.#electionTimeout) {
        if (this.#config.preVote) this.#preCampaign();
        else this.#campaign();
      }
      return;
    }
    if (this.#config.checkQuorum && this.#electionElapsed >= this.#config.electionTicks) {
      this.#electionElapsed = 0;
      if (!this.#quorumActive()) {
        this.#becomeFollower(this.#term, null);
        return;
      }
    }
    if (++this.#heartbeatElapsed >= this.#config.heartbeatTicks) {
      this.#heartbeatElapsed = 0;
      this.#broadcastHeartbeat();
    }
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
    if (index <= this.#log.snapshotIndex || index > this.#appliedTo) return false;
    this.#log.compact(index, this.#log.term(index) as number);
    this.#snapshotData = data;
    this.#snapshotDirty = true;
    return true;
  }

  /** Asks to confirm leadership for a linearizable read; the outcome comes in a Ready's `reads`. */
  requestRead(id: number): void {
    if (this.#role !== 'leader') {
      this.#reads.push({ id, ok: false, reason: 'not-leader' });
      return;
    }
    if (this.#log.term(this.#commitIndex) !== this.#term) {
      this.#reads.push({ id, ok: false, reason: 'not-ready' });
      return;
    }
    if (this.#majority === 1) {
      this.#reads.push({ id, ok: true, index: this.#commitIndex });
      return;
    }
    // Reads requested before the next Ready share one heartbeat round (sent from ready()).
    this.#pendingReads.push({ id, index: this.#commitIndex, round: this.#readRound + 1 });
    this.#readRoundPending = true;
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
      default:
        reply = this.#handleInstallSnapshot(args as InstallSnapshotArgs);
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
      this.#resetElectionTimer();
    }
    return { term: this.#term, voteGranted: grant };
  }

  #handleAppendEntries(args: AppendEntriesArgs): AppendEntriesReply {
    if (args.term < this.#term)
      return { term: this.#term, success: false, conflictTerm: 0, conflictIndex: 0 };
    this.#followLeader(args.term, args.leaderId);

    const log = this.#log;
    let prev = args.prevLogIndex;
    let entries = args.entries;
    if (prev < log.snapshotIndex) {
      // The start of this batch is inside our snapshot, hence committed and matching.
      entries = entries.slice(Math.min(entries.length, log.snapshotIndex - prev));
      prev = log.snapshotIndex;
    } else if (prev > log.lastIndex) {
      return {
        term: this.#term,
        success: false,
        conflictTerm: 0,
        conflictIndex: log.lastIndex + 1,
      };
    } else if (log.term(prev) !== args.prevLogTerm) {
      const conflictTerm = log.term(prev) as number;
      return {
        term: this.#term,
        success: false,
        conflictTerm,
        conflictIndex: log.firstIndexOfTermEndingAt(prev),
      };
    }

    for (let i = 0; i < entries.length; i++) {
      const index = prev + 1 + i;
      const entry = entries[i] as (typeof entries)[number];
      if (index <= log.lastIndex) {
        if (log.term(index) === entry.term) continue;
        this.#truncateFrom(index);
      }
      log.append(entry);
    }
    const lastNew = prev + entries.length;
    if (args.leaderCommit > this.#commitIndex) {
      this.#commitIndex = Math.max(this.#commitIndex, Math.min(args.leaderCommit, lastNew));
    }
    return { term: this.#term, success: true, conflictTerm: 0, conflictIndex: 0 };
  }

  #handleInstallSnapshot(args: InstallSnapshotArgs): InstallSnapshotReply {
    if (args.term < this.#term) return { term: this.#term };
    this.#followLeader(args.term, args.leaderId);
    if (args.lastIncludedIndex <= this.#commitIndex) return { term: this.#term };

    const log = this.#log;
    log.compact(args.lastIncludedIndex, args.lastIncludedTerm);
    this.#snapshotData = args.data;
    this.#commitIndex = args.lastIncludedIndex;
    this.#snapshotDirty = true;
    this.#snapshotToApply = true;
    // compact() may have dropped the whole log: nothing past its new end is unstable any more.
    this.#unstableFrom = Math.max(
      Math.min(this.#unstableFrom, log.lastIndex + 1),
      log.snapshotIndex + 1,
    );
    this.#persistedIndex = Math.min(this.#persistedIndex, log.lastIndex);
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
        this.#onAppendReply(
          request as OutgoingRequest<'AppendEntries'>,
          reply as AppendEntriesReply,
        );
        break;
      default:
        this.#onSnapshotReply(request as OutgoingRequest<'InstallSnapshot'>);
    }
  }

  /** A request this core sent got no reply (lost, timed out, peer down). */
  stepFailure(request: OutgoingRequest): void {
    const progress = this.#progress[request.to];
    if (this.#role !== 'leader' || request.args.term !== this.#term || progress === undefined)
      return;
    if (request.method === 'RequestVote') return;
    if (progress.state === 'probe') progress.probeSent = false;
    else progress.becomeProbe();
  }

  #onPreVote(request: OutgoingRequest<'RequestVote'>, reply: RequestVoteReply): void {
    if (this.#role !== 'precandidate' || request.args.term !== this.#term + 1 || !reply.voteGranted)
      return;
    this.#votes.add(request.to);
    if (this.#votes.size >= this.#majority) this.#campaign();
  }

  #onVote(from: number, reply: RequestVoteReply): void {
    if (this.#role !== 'candidate' || !reply.voteGranted) return;
    this.#votes.add(from);
    if (this.#votes.size >= this.#majority) this.#becomeLeader();
  }

  #onAppendReply(request: OutgoingRequest<'AppendEntries'>, reply: AppendEntriesReply): void {
    const progress = this.#progress[request.to];
    if (this.#role !== 'leader' || progress === undefined) return;
    const { args } = request;
    progress.recentActive = true;
    progress.ackedRound = Math.max(progress.ackedRound, request.round);

    if (reply.success) {
      const matched = args.prevLogIndex + args.entries.length;
      progress.freeInflightsTo(matched);
      if (progress.acknowledge(matched)) this.#maybeCommit();
      if (progress.state === 'probe') progress.becomeReplicate();
      this.#sendAppend(request.to);
    } else if (args.prevLogIndex >= progress.matchIndex) {
      let next = reply.conflictIndex;
      if (reply.conflictTerm > 0) {
        const last = this.#log.lastIndexOfTerm(reply.conflictTerm);
        if (last !== undefined) next = last + 1;
      }
      progress.becomeProbe();
      progress.nextIndex = Math.min(
        Math.max(next, progress.matchIndex + 1),
        this.#log.lastIndex + 1,
      );
      this.#sendAppend(request.to);
    }
    this.#checkReads();
  }

  #onSnapshotReply(request: OutgoingRequest<'InstallSnapshot'>): void {
    const progress = this.#progress[request.to];
    if (this.#role !== 'leader' || progress === undefined) return;
    progress.recentActive = true;
    progress.ackedRound = Math.max(progress.ackedRound, request.round);
    if (progress.acknowledge(request.args.lastIncludedIndex)) this.#maybeCommit();
    progress.becomeProbe();
    this.#sendAppend(request.to);
    this.#checkReads();
  }

  // ---- roles --------------------------------------------------------------------------------

  /** A pre-vote round for term + 1: nothing is persisted and no one changes state. */
  #preCampaign(): void {
    this.#role = 'precandidate';
    this.#leaderId = null;
    this.#votes = new Set([this.me]);
    this.#resetElectionTimer();
    this.#failReads();
    if (this.#votes.size >= this.#majority) {
      this.#campaign();
      return;
    }
    this.#requestVotes(this.#term + 1, true);
  }

  #campaign(): void {
    this.#role = 'candidate';
    this.#term++;
    this.#votedFor = this.me;
    this.#hardStateDirty = true;
    this.#leaderId = null;
    this.#votes = new Set([this.me]);
    this.#resetElectionTimer();
    this.#failReads();
    if (this.#votes.size >= this.#majority) {
      this.#becomeLeader();
      return;
    }
    this.#requestVotes(this.#term, false);
  }

  #requestVotes(term: number, preVote: boolean): void {
    const args: RequestVoteArgs = {
      term,
      candidateId: this.me,
      lastLogIndex: this.#log.lastIndex,
      lastLogTerm: this.#log.lastTerm,
      ...(preVote ? { preVote } : {}),
    };
    for (let peer = 0; peer < this.#config.peerCount; peer++) {
      if (peer !== this.me)
        this.#requests.push({ to: peer, method: 'RequestVote', args, round: 0 });
    }
  }

  /** A leader is known to be alive: this server heard from it within the minimum election timeout. */
  #inLease(): boolean {
    if (!this.#config.checkQuorum) return false;
    if (this.#role === 'leader') return true;
    return this.#leaderId !== null && this.#electionElapsed < this.#config.electionTicks;
  }

  #becomeLeader(): void {
    this.#role = 'leader';
    this.#leaderId = this.me;
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#progress = [];
    for (let peer = 0; peer < this.#config.peerCount; peer++) {
      this.#progress[peer] = peer === this.me ? undefined : new Progress(this.#log.lastIndex + 1);
    }
    this.#broadcastHeartbeat();
  }

  #becomeFollower(term: number, leaderId: number | null): void {
    if (term > this.#term) {
      this.#term = term;
      this.#votedFor = null;
      this.#hardStateDirty = true;
    }
    this.#role = 'follower';
    this.#leaderId = leaderId;
    this.#progress = [];
    // No election timer reset here: seeing a higher term (e.g. from a candidate whose log is
    // behind ours) is no reason to wait longer, or stale candidates could keep the only
    // up-to-date server from ever campaigning. The timer resets on granting a vote, on hearing
    // from the current leader, and on campaigning (Figure 2).
    this.#failReads();
  }

  /** An AppendEntries or InstallSnapshot from the leader of `term` (≥ ours). */
  #followLeader(term: number, leaderId: number): void {
    if (term > this.#term || this.#role !== 'follower') this.#becomeFollower(term, leaderId);
    this.#leaderId = leaderId;
    this.#resetElectionTimer();
  }

  #resetElectionTimer(): void {
    this.#electionElapsed = 0;
    this.#electionTimeout =
      this.#config.electionTicks + this.#config.random.int(this.#config.electionTicks);
  }

  #quorumActive(): boolean {
    let active = 1;
    for (const progress of this.#progress) {
      if (progress === undefined) continue;
      if (progress.recentActive) active++;
      progress.recentActive = false;
    }
    return active >= this.#majority;
  }

  // ---- replication --------------------------------------------------------------------------

  #broadcastHeartbeat(): void {
    for (let peer = 0; peer < this.#config.peerCount; peer++) {
      const progress = this.#progress[peer];
      if (progress === undefined) continue;
      if (progress.state === 'probe') {
        progress.probeSent = false;
        this.#sendAppend(peer);
      } else if (progress.state === 'replicate') {
        this.#sendHeartbeat(peer, progress);
        this.#sendAppend(peer);
      }
    }
  }

  /** An empty AppendEntries at a point the follower is known to hold: it can only succeed. */
  #sendHeartbeat(peer: number, progress: Progress): void {
    const prev = Math.max(progress.matchIndex, this.#log.snapshotIndex);
    this.#pushAppend(peer, prev, []);
  }

  /** Sends what `peer` needs next, as far as its progress state allows. */
  #sendAppend(peer: number): void {
    const progress = this.#progress[peer];
    if (progress === undefined) return;
    const log = this.#log;
    if (progress.nextIndex <= log.snapshotIndex) {
      if (progress.state === 'snapshot') return;
      progress.becomeSnapshot();
      this.#requests.push({
        to: peer,
        method: 'InstallSnapshot',
        args: {
          term: this.#term,
          leaderId: this.me,
          lastIncludedIndex: log.snapshotIndex,
          lastIncludedTerm: log.snapshotTerm,
          data: this.#snapshotData,
        },
        round: this.#readRound,
      });
      return;
    }
    const max = this.#config.maxEntriesPerAppend;
    if (progress.state === 'probe') {
      if (progress.probeSent) return;
      progress.probeSent = true;
      const entries = log.slice(
        progress.nextIndex,
        Math.min(log.lastIndex, progress.nextIndex + max - 1),
      );
      this.#pushAppend(peer, progress.nextIndex - 1, entries);
      return;
    }
    while (
      progress.state === 'replicate' &&
      progress.inflights.length < this.#config.maxInflightAppends &&
      progress.nextIndex <= log.lastIndex
    ) {
      const entries = log.slice(
        progress.nextIndex,
        Math.min(log.lastIndex, progress.nextIndex + max - 1),
      );
      this.#pushAppend(peer, progress.nextIndex - 1, entries);
      progress.nextIndex += entries.length;
      progress.inflights.push(progress.nextIndex - 1);
    }
  }

  #pushAppend(peer: number, prevLogIndex: number, entries: AppendEntriesArgs['entries']): void {
    this.#requests.push({
      to: peer,
      method: 'AppendEntries',
      args: {
        term: this.#term,
        leaderId: this.me,
        prevLogIndex,
        prevLogTerm: this.#log.term(prevLogIndex) as number,
        entries,
        leaderCommit: this.#commitIndex,
      },
      round: this.#readRound,
    });
  }

  #maybeCommit(): void {
    if (this.#role !== 'leader') return;
    const matches = this.#progress.map((progress) =>
      progress === undefined
        ? Math.min(this.#persistedIndex, this.#log.lastIndex)
        : progress.matchIndex,
    );
    const index = quorumIndex(matches);
    if (index > this.#commitIndex && this.#log.term(index) === this.#term) {
      this.#commitIndex = index;
      this.#checkReads();
    }
  }

  #truncateFrom(index: number): void {
    this.#log.truncateFrom(index);
    this.#unstableFrom = Math.min(this.#unstableFrom, index);
    this.#persistedIndex = Math.min(this.#persistedIndex, index - 1);
  }

  // ---- reads --------------------------------------------------------------------------------

  #checkReads(): void {
    while (this.#pendingReads.length > 0) {
      const read = this.#pendingReads[0] as { id: number; index: number; round: number };
      let acks = 1;
      for (const progress of this.#progress) {
        if (progress !== undefined && progress.ackedRound >= read.round) acks++;
      }
      if (acks < this.#majority) return;
      this.#pendingReads.shift();
      this.#reads.push({ id: read.id, ok: true, index: read.index });
    }
  }

  #failReads(): void {
    for (const read of this.#pendingReads)
      this.#reads.push({ id: read.id, ok: false, reason: 'not-leader' });
    this.#pendingReads = [];
  }

  // ---- Ready --------------------------------------------------------------------------------

  hasReady(): boolean {
    return (
      this.#replicationPending ||
      this.#readRoundPending ||
      this.#hardStateDirty ||
      this.#snapshotDirty ||
      this.#snapshotToApply ||
      this.#unstableFrom <= this.#log.lastIndex ||
      this.#appliedTo < Math.min(this.#commitIndex, this.#log.lastIndex) ||
      this.#requests.length > 0 ||
      this.#replies.length > 0 ||
      this.#reads.length > 0
    );
  }

  /** Takes the pending batch of work; see `Ready` for the order the driver must follow. */
  ready(): Ready {
    if (this.#readRoundPending) {
      this.#readRoundPending = false;
      if (this.#role === 'leader') {
        this.#readRound++;
        this.#broadcastHeartbeat();
      }
    }
    if (this.#replicationPending) {
      this.#replicationPending = false;
      for (let peer = 0; peer < this.#config.peerCount; peer++) this.#sendAppend(peer);
    }
    const log = this.#log;
    let persist: PersistUpdate | undefined;
    let persistedTo: Ready['persistedTo'];
    const hardState = this.#hardStateDirty
      ? { term: this.#term, votedFor: this.#votedFor }
      : undefined;
    const snapshot = this.#snapshotDirty
      ? { index: log.snapshotIndex, term: log.snapshotTerm, data: this.#snapshotData }
      : undefined;
    const entries =
      this.#unstableFrom <= log.lastIndex
        ? { from: this.#unstableFrom, entries: log.slice(this.#unstableFrom) }
        : undefined;
    if (hardState || snapshot || entries) {
      persist = { hardState, snapshot, entries };
      persistedTo = { index: log.lastIndex, term: log.lastTerm };
    }
    this.#hardStateDirty = false;
    this.#snapshotDirty = false;
    this.#unstableFrom = log.lastIndex + 1;

    const apply: ApplyMsg[] = [];
    if (this.#snapshotToApply) {
      this.#snapshotToApply = false;
      apply.push({
        type: 'snapshot',
        index: log.snapshotIndex,
        term: log.snapshotTerm,
        snapshot: this.#snapshotData,
      });
      this.#appliedTo = log.snapshotIndex;
    }
    const applyTo = Math.min(this.#commitIndex, log.lastIndex);
    for (let index = Math.max(this.#appliedTo + 1, log.firstIndex); index <= applyTo; index++) {
      const entry = log.entry(index) as { term: number; command: unknown };
      apply.push({ type: 'command', index, term: entry.term, command: entry.command });
    }
    this.#appliedTo = Math.max(this.#appliedTo, applyTo);

    const ready: Ready = {
      persist,
      persistedTo,
      requests: this.#requests,
      replies: this.#replies,
      apply,
      reads: this.#reads,
    };
    this.#requests = [];
    this.#replies = [];
    this.#reads = [];
    return ready;
  }

  /** The driver finished `ready` (persisted, sent, applied). */
  advance(ready: Ready): void {
    const to = ready.persistedTo;
    if (to !== undefined && this.#log.term(to.index) === to.term) {
      this.#persistedIndex = Math.max(
        this.#persistedIndex,
        Math.min(to.index, this.#unstableFrom - 1),
      );
      this.#maybeCommit();
    }
  }
}

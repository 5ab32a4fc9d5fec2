import { majorityOf, type RaftCoreConfig } from './config.js';
import type { RaftLog } from './log.js';
import type { LogState } from './log-state.js';
import type { AppendEntriesArgs, AppendEntriesReply } from './messages.js';
import { Progress, quorumIndex } from './progress.js';
import type { ReadIndex } from './read-index.js';
import type { OutgoingRequest } from './ready.js';

type ReplicationConfig = Pick<
  RaftCoreConfig,
  'me' | 'peerCount' | 'heartbeatTicks' | 'maxEntriesPerAppend' | 'maxInflightAppends'
>;

/**
 * The leader's side of log replication for one term of office (§5.3, §5.4.2, §7): a
 * `Progress` per follower (nextIndex, matchIndex, and how to send, see progress.ts), the
 * AppendEntries and InstallSnapshot that bring each follower up to date, heartbeats, their
 * replies, and the commit rule. RaftCore creates one on winning an election and drops it on
 * stepping down, so it exists exactly while this server leads, and its term never changes.
 */
export class Replication {
  readonly #config: ReplicationConfig;
  readonly #term: number;
  readonly #majority: number;
  readonly #log: RaftLog;
  /** commitIndex, what of our own log is durable, and the snapshot to send. */
  readonly #logState: LogState;
  readonly #readIndex: ReadIndex;
  readonly #send: (request: OutgoingRequest) => void;
  /** Indexed by peer; undefined at our own index. */
  readonly #progress: Array<Progress | undefined> = [];
  #heartbeatElapsed = 0;

  constructor(
    config: ReplicationConfig,
    term: number,
    logState: LogState,
    readIndex: ReadIndex,
    send: (request: OutgoingRequest) => void,
  ) {
    this.#config = config;
    this.#term = term;
    this.#majority = majorityOf(config.peerCount);
    this.#log = logState.log;
    this.#logState = logState;
    this.#readIndex = readIndex;
    this.#send = send;
    for (let peer = 0; peer < config.peerCount; peer++) {
      this.#progress[peer] = peer === config.me ? undefined : new Progress(this.#log.lastIndex + 1);
    }
  }

  /** One tick of the heartbeat timer. */
  tick(): void {
    if (++this.#heartbeatElapsed >= this.#config.heartbeatTicks) {
      this.#heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  /** Check-quorum: whether a majority was heard from since the last call (which starts anew). */
  quorumActive(): boolean {
    let active = 1;
    for (const progress of this.#progress) {
      if (progress === undefined) continue;
      if (progress.recentActive) active++;
      progress.recentActive = false;
    }
    return active >= this.#majority;
  }

  /**
   * Every follower hears from the leader: a probe is sent again (the last one may be lost); a
   * replicating follower gets an empty AppendEntries it is sure to accept (carrying commitIndex
   * and the read round) and whatever entries its window allows. A follower being sent a
   * snapshot waits for it.
   */
  broadcastHeartbeat(): void {
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

  /** A heartbeat round for the reads waiting in ReadIndex. */
  startReadRound(): void {
    this.#readIndex.nextRound();
    this.broadcastHeartbeat();
  }

  /** Sends the entries proposed since the last Ready, as far as each follower's state allows. */
  sendAppends(): void {
    for (let peer = 0; peer < this.#config.peerCount; peer++) this.#sendAppend(peer);
  }

  /**
   * A success means the follower holds everything the request covered. A refusal with
   * prevLogIndex ≥ matchIndex moves nextIndex back by the follower's hint (fast backup) and
   * probes from there; an older refusal is stale. Either way the reply acknowledges its round.
   */
  onAppendReply(request: OutgoingRequest<'AppendEntries'>, reply: AppendEntriesReply): void {
    const progress = this.#progress[request.to];
    if (progress === undefined) return;
    const { args } = request;
    progress.recentActive = true;
    progress.ackedRound = Math.max(progress.ackedRound, request.round);

    if (reply.success) {
      const matched = args.prevLogIndex + args.entries.length;
      progress.freeInflightsTo(matched);
      if (progress.acknowledge(matched)) this.maybeCommit();
      if (progress.state === 'probe') progress.becomeReplicate();
      this.#sendAppend(request.to);
    } else if (args.prevLogIndex >= progress.matchIndex) {
      const log = this.#log;
      let next = reply.conflictIndex;
      if (reply.conflictTerm > 0) {
        const last = log.lastIndexOfTerm(reply.conflictTerm);
        if (last !== undefined) next = last + 1;
      }
      progress.becomeProbe();
      progress.nextIndex = Math.min(Math.max(next, progress.matchIndex + 1), log.lastIndex + 1);
      this.#sendAppend(request.to);
    }
    this.#readIndex.confirm(this.#progress);
  }

  onSnapshotReply(request: OutgoingRequest<'InstallSnapshot'>): void {
    const progress = this.#progress[request.to];
    if (progress === undefined) return;
    progress.recentActive = true;
    progress.ackedRound = Math.max(progress.ackedRound, request.round);
    if (progress.acknowledge(request.args.lastIncludedIndex)) this.maybeCommit();
    progress.becomeProbe();
    this.#sendAppend(request.to);
    this.#readIndex.confirm(this.#progress);
  }

  /**
   * A request of this term got no reply: probe the follower again from its matchIndex. (A
   * RequestVote of this term was sent while a candidate, and needs nothing now.)
   */
  onFailure(request: OutgoingRequest): void {
    const progress = this.#progress[request.to];
    if (progress === undefined || request.method === 'RequestVote') return;
    if (progress.state === 'probe') progress.probeSent = false;
    else progress.becomeProbe();
  }

  /**
   * Commits the highest index a majority holds, if it is of this term (§5.4.2, Figure 8): an
   * older entry is committed only indirectly, with it. Our own log counts only as far as it is
   * durable.
   */
  maybeCommit(): void {
    const logState = this.#logState;
    const matches = this.#progress.map((progress) =>
      progress === undefined ? logState.persistedIndex : progress.matchIndex,
    );
    const index = quorumIndex(matches);
    if (index > logState.commitIndex && this.#log.term(index) === this.#term) {
      logState.commitTo(index);
      this.#readIndex.confirm(this.#progress);
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
      this.#send({
        to: peer,
        method: 'InstallSnapshot',
        args: {
          term: this.#term,
          leaderId: this.#config.me,
          lastIncludedIndex: log.snapshotIndex,
          lastIncludedTerm: log.snapshotTerm,
          data: this.#logState.snapshotData,
        },
        round: this.#readIndex.round,
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
    this.#send({
      to: peer,
      method: 'AppendEntries',
      args: {
        term: this.#term,
        leaderId: this.#config.me,
        prevLogIndex,
        prevLogTerm: this.#log.term(prevLogIndex) as number,
        entries,
        leaderCommit: this.#logState.commitIndex,
      },
      round: this.#readIndex.round,
    });
  }
}

import type { RaftCoreConfig } from './config.js';
import { fitBytes } from './entry-bytes.js';
import type { RaftLog } from './log.js';
import type { LogState } from './log-state.js';
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotReply,
  LogEntry,
} from './messages.js';
import { Progress } from './progress.js';
import { committedIndex, hasQuorum } from './quorum.js';
import type { ReadIndex } from './read-index.js';
import type { OutgoingRequest } from './ready.js';
import { OutgoingSnapshot } from './snapshot-transfer.js';

type ReplicationConfig = Pick<
  RaftCoreConfig,
  | 'me'
  | 'peerCount'
  | 'electionTicks'
  | 'heartbeatTicks'
  | 'maxEntriesPerAppend'
  | 'maxAppendBytes'
  | 'maxInflightAppends'
  | 'snapshotChunkBytes'
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
    this.#log = logState.log;
    this.#logState = logState;
    this.#readIndex = readIndex;
    this.#send = send;
    for (let peer = 0; peer < config.peerCount; peer++) {
      this.#progress[peer] = peer === config.me ? undefined : new Progress(this.#log.lastIndex + 1);
    }
  }

  /** One tick of the heartbeat timer (and of every snapshot transfer's retry timer). */
  tick(): void {
    for (const progress of this.#progress) progress?.pendingSnapshot?.tick();
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
    return hasQuorum(this.#config.peerCount, active);
  }

  /**
   * Every follower hears from the leader: a probe is sent again (the last one may be lost); a
   * replicating follower gets an empty AppendEntries it is sure to accept (carrying commitIndex
   * and the read round) and whatever entries its window allows. A follower being sent a
   * snapshot gets an empty AppendEntries at index 0, which matches every log: it changes
   * nothing there but resets the follower's election timer and counts for check-quorum and
   * read rounds, so a transfer longer than an election timeout deposes no one.
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
      } else {
        this.#pushAppend(peer, 0, []);
        this.#sendAppend(peer); // the chunk in flight again, if it was lost
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
   * probes from there, no lower than matchIndex + 1 unless the follower's log ends below
   * matchIndex (it lost acknowledged entries); an older refusal is stale. Either way the reply acknowledges its round.
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
      if (reply.conflictTerm === 0 && next >= 1 && next <= progress.matchIndex) {
        // Its log ends before entries it acknowledged: its disk lost writes it had synced
        // (outside Raft's model). Send them again rather than ask past its end forever.
        progress.matchIndex = next - 1;
      }
      progress.becomeProbe();
      progress.nextIndex = Math.min(Math.max(next, progress.matchIndex + 1), log.lastIndex + 1);
      this.#sendAppend(request.to);
    }
    this.#readIndex.confirm(this.#progress);
  }

  /**
   * `done`: the follower holds everything through the snapshot's index; once that covers the
   * snapshot being sent, probe from just past it. Otherwise, if it answers the chunk in
   * flight, send the chunk it asks for. Either way the reply acknowledges its round.
   */
  onSnapshotReply(request: OutgoingRequest<'InstallSnapshot'>, reply: InstallSnapshotReply): void {
    const progress = this.#progress[request.to];
    if (progress === undefined) return;
    progress.recentActive = true;
    progress.ackedRound = Math.max(progress.ackedRound, request.round);
    const pending = progress.pendingSnapshot;
    if (reply.done) {
      if (progress.acknowledge(request.args.lastIncludedIndex)) this.maybeCommit();
      if (pending !== undefined && progress.matchIndex >= pending.index) {
        progress.becomeProbe();
        this.#sendAppend(request.to);
      }
    } else if (pending?.isInflight(request.args)) {
      pending.continueAt(reply.nextOffset);
      this.#sendAppend(request.to);
    }
    this.#readIndex.confirm(this.#progress);
  }

  /**
   * A request of this term got no reply: probe the follower again from its matchIndex. A
   * follower being sent a snapshot keeps its transfer: a lost chunk is sent again from the
   * next heartbeat, and a lost AppendEntries (a heartbeat) says nothing about the transfer. (A
   * RequestVote of this term was sent while a candidate, and needs nothing now.)
   */
  onFailure(request: OutgoingRequest): void {
    const progress = this.#progress[request.to];
    if (progress === undefined || request.method === 'RequestVote') return;
    if (progress.state === 'snapshot') {
      const pending = progress.pendingSnapshot;
      const { args } = request as OutgoingRequest<'InstallSnapshot'>;
      if (request.method === 'InstallSnapshot' && pending?.isInflight(args)) pending.lost();
    } else if (progress.state === 'probe') progress.probeSent = false;
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
    const index = committedIndex(matches);
    if (index > logState.commitIndex && this.#log.term(index) === this.#term) {
      logState.commitTo(index);
      this.#readIndex.committedInTerm(index);
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
    if (this.#sendSnapshot(peer, progress)) return;
    const log = this.#log;
    if (progress.state === 'probe') {
      if (progress.probeSent) return;
      progress.probeSent = true;
      this.#pushAppend(peer, progress.nextIndex - 1, this.#batch(progress.nextIndex));
      return;
    }
    while (
      progress.state === 'replicate' &&
      progress.inflights.length < this.#config.maxInflightAppends &&
      progress.nextIndex <= log.lastIndex
    ) {
      const entries = this.#batch(progress.nextIndex);
      this.#pushAppend(peer, progress.nextIndex - 1, entries);
      progress.nextIndex += entries.length;
      progress.inflights.push(progress.nextIndex - 1);
    }
  }

  /**
   * The entries of one AppendEntries from index `from`: at most `maxEntriesPerAppend`, and no
   * more than fit in `maxAppendBytes` (at least one), so a batch of large entries stays under
   * the transport's frame limit instead of being refused forever.
   */
  #batch(from: number): LogEntry[] {
    const log = this.#log;
    const entries = log.slice(
      from,
      Math.min(log.lastIndex, from + this.#config.maxEntriesPerAppend - 1),
    );
    const fit = fitBytes(entries, this.#config.maxAppendBytes);
    return fit === entries.length ? entries : entries.slice(0, fit);
  }

  /**
   * If `peer` needs entries compacted away (or is being sent a snapshot already), sends the
   * next chunk of the snapshot, unless one is in flight; returns whether it does need one. A
   * transfer not yet begun, or back at its start, takes the newest snapshot there is.
   */
  #sendSnapshot(peer: number, progress: Progress): boolean {
    const log = this.#log;
    const pending = progress.pendingSnapshot;
    const fresh =
      pending === undefined
        ? progress.nextIndex <= log.snapshotIndex
        : pending.atStart && pending.index < log.snapshotIndex;
    if (fresh) {
      progress.becomeSnapshot(
        new OutgoingSnapshot(log.snapshotIndex, log.snapshotTerm, this.#logState.snapshotData, {
          chunkBytes: this.#config.snapshotChunkBytes,
          retryTicks: this.#config.electionTicks,
        }),
      );
    }
    const transfer = progress.pendingSnapshot;
    if (transfer === undefined) return false;
    const args = transfer.nextChunk(this.#term, this.#config.me);
    if (args !== undefined) {
      this.#send({ to: peer, method: 'InstallSnapshot', args, round: this.#readIndex.round });
    }
    return true;
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

/** One log entry. Its index is implicit: its position in the log. */
export interface LogEntry {
  readonly term: number;
  readonly command: unknown;
  /**
   * The entry a new leader appends on election (`noopOnElection`; §8 of the extended paper):
   * it carries no command (`command` is null) and is applied as `{ type: 'noop' }`.
   */
  readonly noop?: true;
}

export interface RequestVoteArgs {
  readonly term: number;
  readonly candidateId: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /**
   * A pre-vote (Raft thesis §9.6): "would you vote for me in `term`?". Answering changes
   * nothing on the receiver, so a server that cannot win (cut off, or behind) never raises
   * the cluster's term and never deposes a working leader.
   */
  readonly preVote?: boolean;
}

export interface RequestVoteReply {
  readonly term: number;
  readonly voteGranted: boolean;
}

export interface AppendEntriesArgs {
  readonly term: number;
  readonly leaderId: number;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly LogEntry[];
  readonly leaderCommit: number;
}

/**
 * `conflictTerm`/`conflictIndex` implement the fast backup of the extended paper (§5.3):
 * on a mismatch at prevLogIndex the follower names the term it has there (0 if its log is
 * too short) and the first index it holds of that term, so the leader skips a whole term per
 * round trip instead of one entry.
 */
export interface AppendEntriesReply {
  readonly term: number;
  readonly success: boolean;
  readonly conflictTerm: number;
  readonly conflictIndex: number;
}

/**
 * One chunk of the leader's snapshot through `lastIncludedIndex` (Figure 13 of the extended
 * paper): its bytes `offset … offset + data.length`, `done` on the last. See
 * snapshot-transfer.ts.
 */
export interface InstallSnapshotArgs {
  readonly term: number;
  readonly leaderId: number;
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

/**
 * `done`: the follower holds that snapshot now (installed, or already covered by its log), so
 * the leader stops sending it. Otherwise `nextOffset` is the byte it wants next: after the
 * chunk it took, where its partial snapshot ends (resume), or 0 (start over).
 */
export interface InstallSnapshotReply {
  readonly term: number;
  readonly done: boolean;
  readonly nextOffset: number;
}

export type RaftMethod = 'RequestVote' | 'AppendEntries' | 'InstallSnapshot';

export interface RaftArgs {
  RequestVote: RequestVoteArgs;
  AppendEntries: AppendEntriesArgs;
  InstallSnapshot: InstallSnapshotArgs;
}

export interface RaftReplies {
  RequestVote: RequestVoteReply;
  AppendEntries: AppendEntriesReply;
  InstallSnapshot: InstallSnapshotReply;
}

import type { RaftRandom } from '../env.js';

/** RaftCore's settings (RaftNode fills them from its options and their defaults). */
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

/** How many servers of `peerCount` (this one included) make a majority. */
export function majorityOf(peerCount: number): number {
  return Math.floor(peerCount / 2) + 1;
}

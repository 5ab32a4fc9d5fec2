/**
 * All majority arithmetic of the core, in one place (etcd-io/raft's quorum/majority.go): how
 * many of `voters` servers make a majority, a vote tally's outcome, the index a majority has
 * replicated, and whether enough acknowledgements were counted. Elections, the commit rule,
 * check-quorum and ReadIndex all count through these functions. Every count includes this
 * server; `voters` is the cluster's size.
 */

/** How many of `voters` servers make a majority. */
export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** Whether `acks` distinct servers (this one included) are a majority of `voters`. */
export function hasQuorum(voters: number, acks: number): boolean {
  return acks >= majority(voters);
}

/**
 * The outcome of a tally: `won` once a majority granted, `lost` once so many refused that the
 * servers not yet heard from could no longer make a majority, `pending` otherwise.
 */
export type VoteResult = 'won' | 'lost' | 'pending';

export function voteResult(voters: number, granted: number, rejected: number): VoteResult {
  if (hasQuorum(voters, granted)) return 'won';
  if (!hasQuorum(voters, voters - rejected)) return 'lost';
  return 'pending';
}

/**
 * The largest index that a majority holds, given the match index of every server (this one
 * included; `matchIndexes.length` is the cluster's size): the commit candidate of §5.3. Only
 * an index of the leader's current term may be committed by this count (§5.4.2): that check
 * is the caller's.
 */
export function committedIndex(matchIndexes: readonly number[]): number {
  const sorted = [...matchIndexes].sort((a, b) => b - a);
  return sorted[majority(matchIndexes.length) - 1] ?? 0;
}

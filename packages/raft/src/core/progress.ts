/**
 * The leader's view of one follower (etcd-io/raft's tracker.Progress, simplified):
 * - `probe`: we don't know where its log matches; send one AppendEntries per heartbeat.
 * - `replicate`: it matches up to `matchIndex`; stream entries optimistically, advancing
 *   `nextIndex` as we send, with at most `maxInflight` AppendEntries outstanding (pipelining).
 * - `snapshot`: an InstallSnapshot is outstanding.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  nextIndex: number;
  matchIndex = 0;
  state: ProgressState = 'probe';
  /** AppendEntries sent in `replicate` state and not yet answered (or failed). */
  inflight = 0;
  /** In `probe` state: an AppendEntries is out; wait for it (or the next heartbeat) before another. */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** The highest read round this follower has acknowledged (see read-index.ts). */
  ackedRound = 0;

  constructor(nextIndex: number) {
    this.nextIndex = nextIndex;
  }

  becomeProbe(): void {
    this.state = 'probe';
    this.nextIndex = this.matchIndex + 1;
    this.inflight = 0;
    this.probeSent = false;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.nextIndex = Math.max(this.nextIndex, this.matchIndex + 1);
    this.probeSent = false;
  }

  becomeSnapshot(): void {
    this.state = 'snapshot';
    this.inflight = 0;
    this.probeSent = false;
  }

  /** Records a successful append up to `index`; returns true if matchIndex advanced. */
  acknowledge(index: number): boolean {
    if (index <= this.matchIndex) return false;
    this.matchIndex = index;
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    return true;
  }
}

/** The largest index replicated on a majority, given every server's matchIndex (self included). */
export function quorumIndex(matchIndexes: readonly number[]): number {
  const sorted = [...matchIndexes].sort((a, b) => b - a);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

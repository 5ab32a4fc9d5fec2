import type { OutgoingSnapshot } from './snapshot-transfer.js';

/**
 * The leader's view of one follower (etcd-io/raft's tracker.Progress, simplified):
 * - `probe`: we don't know where its log matches; send one AppendEntries per heartbeat.
 * - `replicate`: it matches up to `matchIndex`; stream entries optimistically, advancing
 *   `nextIndex` as we send, with at most `maxInflight` AppendEntries outstanding (pipelining).
 * - `snapshot`: its log needs entries the leader compacted away; `pendingSnapshot` is being
 *   sent to it, chunk by chunk (snapshot-transfer.ts).
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  nextIndex: number;
  matchIndex = 0;
  state: ProgressState = 'probe';
  /**
   * Last index of each entry-carrying AppendEntries sent in `replicate` state and not yet
   * acknowledged, oldest first (etcd-io/raft's Inflights). Heartbeats take no slot.
   */
  inflights: number[] = [];
  /** In `probe` state: an AppendEntries is out; wait for it (or the next heartbeat) before another. */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** The highest read round this follower has acknowledged (see read-index.ts). */
  ackedRound = 0;
  /** Defined exactly in `snapshot` state: the transfer under way. */
  pendingSnapshot: OutgoingSnapshot | undefined;

  constructor(nextIndex: number) {
    this.nextIndex = nextIndex;
  }

  becomeProbe(): void {
    this.state = 'probe';
    this.pendingSnapshot = undefined;
    this.nextIndex = this.matchIndex + 1;
    this.inflights = [];
    this.probeSent = false;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.pendingSnapshot = undefined;
    this.nextIndex = Math.max(this.nextIndex, this.matchIndex + 1);
    this.probeSent = false;
  }

  becomeSnapshot(snapshot: OutgoingSnapshot): void {
    this.state = 'snapshot';
    this.pendingSnapshot = snapshot;
    this.inflights = [];
    this.probeSent = false;
  }

  /** Frees the slots of appends up to `index`: the follower holds everything through it. */
  freeInflightsTo(index: number): void {
    let n = 0;
    while (n < this.inflights.length && (this.inflights[n] as number) <= index) n++;
    if (n > 0) this.inflights.splice(0, n);
  }

  /** Records a successful append up to `index`; returns true if matchIndex advanced. */
  acknowledge(index: number): boolean {
    if (index <= this.matchIndex) return false;
    this.matchIndex = index;
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    return true;
  }
}

import { MAX_RAFT_STATE_FACTOR } from './constants.js';
import { LabError } from './errors.js';

/** What the size checks read of a cluster. */
export interface SizedCluster {
  readonly n: number;
  readonly maxraftstate: number;
  logSize(): number;
  snapshotSize(): number;
  persister(i: number): { raftStateSize(): number; snapshotSize(): number } | undefined;
}

/**
 * kvraft GenericTest's size check after each iteration: maxraftstate > 0 → `LogSize() ≤
 * 8 × maxraftstate` ("logs were not trimmed"); maxraftstate < 0 → `SnapshotSize()` must be 0.
 */
export function checkLogSizes(cluster: SizedCluster, maxraftstate = cluster.maxraftstate): void {
  if (maxraftstate > 0) {
    const sz = cluster.logSize();
    if (sz > MAX_RAFT_STATE_FACTOR * maxraftstate) {
      throw new LabError(`logs were not trimmed (${sz} > 8*${maxraftstate})`);
    }
  }
  if (maxraftstate < 0) {
    const ssz = cluster.snapshotSize();
    if (ssz > 0) {
      throw new LabError(
        `snapshot too large (${ssz}), should not be used when maxraftstate = ${maxraftstate}`,
      );
    }
  }
}

/**
 * shardkv's `checklogs()`, per server of every cluster given: maxraftstate ≥ 0 → Raft state
 * ≤ 8 × maxraftstate; maxraftstate < 0 → no snapshot at all.
 */
export function checkLogs(clusters: readonly SizedCluster[]): void {
  for (const cluster of clusters) {
    const max = cluster.maxraftstate;
    for (let i = 0; i < cluster.n; i++) {
      const p = cluster.persister(i);
      if (p === undefined) continue;
      const raft = p.raftStateSize();
      if (max >= 0 && raft > MAX_RAFT_STATE_FACTOR * max) {
        throw new LabError(`persister.RaftStateSize() ${raft}, but maxraftstate ${max}`);
      }
      if (max < 0 && p.snapshotSize() > 0) {
        throw new LabError('maxraftstate is -1, but snapshot is non-empty!');
      }
    }
  }
}

/** A snapshot's place in the log, its index and term, counted as two 8-byte integers. */
const SNAPSHOT_POINT_BYTES = 16;

/**
 * The lab's `RaftStateSize`, as both persisters count it: the encoded hard state, each entry's
 * own msgpack encoding, and the snapshot's index and term once there is a snapshot (the
 * snapshot's data is `snapshotSize`). One formula, so a service's snapshot threshold behaves
 * the same on either persister, and reopening a FilePersister never changes the figure.
 */
export function raftStateBytes(state: {
  readonly hardStateBytes: number;
  readonly entryBytes: number;
  readonly hasSnapshot: boolean;
}): number {
  return state.hardStateBytes + state.entryBytes + (state.hasSnapshot ? SNAPSHOT_POINT_BYTES : 0);
}

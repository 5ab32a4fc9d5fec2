import type { LogEntry } from '../core/messages.js';

/** The part of Raft's state that must survive a crash besides the log (Figure 2). */
export interface HardState {
  readonly term: number;
  readonly votedFor: number | null;
}

export interface Snapshot {
  /** The last log index the snapshot covers. */
  readonly index: number;
  /** The term of that entry. */
  readonly term: number;
  readonly data: Uint8Array;
}

/** Everything a restarted node starts from. */
export interface PersistedState {
  readonly hardState: HardState;
  /** The latest snapshot, if any; the log starts right after it. */
  readonly snapshot: Snapshot | undefined;
  /** Entries `snapshot.index + 1 …` (or `1 …` with no snapshot). */
  readonly entries: readonly LogEntry[];
}

/**
 * One durable step. Applied in this order: `snapshot` (drop entries up to its index; if the
 * log holds no entry at its index with its term, drop the whole log: core/snapshot-rule.ts),
 * then `entries` (drop every entry at index ≥ `from`, then append `entries` starting at
 * `from`), then `hardState`.
 *
 * Raft hands the persister one update per batch of work, so many proposals share one write
 * (and, on disk, one fsync): group commit.
 */
export interface PersistUpdate {
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries?: { readonly from: number; readonly entries: readonly LogEntry[] };
}

/**
 * Where a Raft node keeps its state. `save` must be durable when it returns (or when its
 * promise resolves): Raft acknowledges nothing before that. A synchronous persister (the
 * in-memory one) lets the node run without promise turns.
 */
export interface Persister {
  /** The saved state, or undefined if nothing was ever saved. */
  load(): PersistedState | undefined | Promise<PersistedState | undefined>;
  save(update: PersistUpdate): void | Promise<void>;
  /** Bytes of saved Raft state (term, vote, log), snapshot excluded: the lab's `RaftStateSize`. */
  raftStateSize(): number;
  /** Bytes of the saved snapshot. */
  snapshotSize(): number;
}

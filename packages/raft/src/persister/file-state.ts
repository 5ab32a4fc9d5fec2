import { decode } from '../codec.js';
import { entriesCoveredBySnapshot } from '../core/snapshot-rule.js';
import type { SnapshotRef, WalRecord } from './file-wal.js';
import { raftStateBytes } from './raft-state-size.js';

/**
 * The file persister's live state, kept in memory in MemoryPersister's form: the encoded
 * hard state, the snapshot's place, every entry after it as its own msgpack bytes. Recovery
 * and `save` change it through the same `applyRecord`, so what a reopened persister holds
 * is, by construction, what the running one held.
 */
export interface LiveState {
  hardState: Uint8Array | undefined;
  snapshot: SnapshotRef | undefined;
  snapshotData: Uint8Array;
  entries: Uint8Array[];
  entryBytes: number;
}

export function emptyState(): LiveState {
  return {
    hardState: undefined,
    snapshot: undefined,
    snapshotData: new Uint8Array(0),
    entries: [],
    entryBytes: 0,
  };
}

export function isEmptyState(state: LiveState): boolean {
  return (
    state.hardState === undefined && state.snapshot === undefined && state.entries.length === 0
  );
}

/** The index of `state.entries[0]`. */
export function firstIndex(state: LiveState): number {
  return (state.snapshot?.index ?? 0) + 1;
}

/**
 * PersistUpdate semantics, exactly as MemoryPersister applies them: the snapshot (by the one
 * snapshot rule, core/snapshot-rule.ts), then the entries (drop every entry at index ≥ from,
 * append from there), then the hard state. The snapshot's data is the caller's business (it is
 * only known for the last snapshot).
 */
export function applyRecord(state: LiveState, record: WalRecord): void {
  if (record.snapshot !== undefined) {
    const { index, term } = record.snapshot;
    const drop = entriesCoveredBySnapshot(
      {
        firstIndex: firstIndex(state),
        length: state.entries.length,
        termAt: (k) => entryTerm(state.entries[k] as Uint8Array),
      },
      index,
      term,
    );
    dropFrom(state, 0, drop);
    state.snapshot = record.snapshot;
  }
  if (record.entries !== undefined) {
    const keep = Math.max(0, record.entries.from - firstIndex(state));
    if (keep < state.entries.length) dropFrom(state, keep, state.entries.length - keep);
    for (const bytes of record.entries.entries) {
      state.entries.push(bytes);
      state.entryBytes += bytes.length;
    }
  }
  if (record.hardState !== undefined) state.hardState = record.hardState;
}

/** The one record that rebuilds `state` from nothing: what a compacted WAL holds. */
export function baseRecord(state: LiveState): WalRecord {
  return {
    snapshot: state.snapshot,
    entries:
      state.entries.length === 0 ? undefined : { from: firstIndex(state), entries: state.entries },
    hardState: state.hardState,
  };
}

/** Bytes of Raft state, snapshot excluded: the formula both persisters share. */
export function liveStateBytes(state: LiveState): number {
  return raftStateBytes({
    hardStateBytes: state.hardState?.length ?? 0,
    entryBytes: state.entryBytes,
    hasSnapshot: state.snapshot !== undefined,
  });
}

function dropFrom(state: LiveState, start: number, count: number): void {
  for (const bytes of state.entries.splice(start, count)) state.entryBytes -= bytes.length;
}

function entryTerm(bytes: Uint8Array): unknown {
  return (decode(bytes) as { term?: unknown } | null | undefined)?.term;
}

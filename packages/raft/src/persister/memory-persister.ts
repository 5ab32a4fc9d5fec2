import { decode, encode } from '../codec.js';
import type { LogEntry } from '../core/messages.js';
import { entriesCoveredBySnapshot } from '../core/snapshot-rule.js';
import type { HardState, PersistedState, Persister, PersistUpdate, Snapshot } from './persister.js';
import { raftStateBytes } from './raft-state-size.js';

const EMPTY_HARD_STATE: HardState = { term: 0, votedFor: null };

/**
 * An in-memory persister with the lab's crash semantics: what is saved is encoded, so a node
 * restarted from `copy()` sees exactly what was saved and never shares an object with the
 * node that saved it. Entries are encoded one by one so a save costs what it changes.
 */
export class MemoryPersister implements Persister {
  #hardState: Buffer | undefined;
  #snapshotMeta: { index: number; term: number } | undefined;
  #snapshotData: Uint8Array = new Uint8Array(0);
  #entries: Buffer[] = [];
  #entryBytes = 0;
  #saves = 0;

  load(): PersistedState | undefined {
    if (
      this.#hardState === undefined &&
      this.#snapshotMeta === undefined &&
      this.#entries.length === 0
    ) {
      return undefined;
    }
    const snapshot: Snapshot | undefined =
      this.#snapshotMeta === undefined
        ? undefined
        : { ...this.#snapshotMeta, data: this.#snapshotData.slice() };
    return {
      hardState:
        this.#hardState === undefined ? EMPTY_HARD_STATE : (decode(this.#hardState) as HardState),
      snapshot,
      entries: this.#entries.map((bytes) => decode(bytes) as LogEntry),
    };
  }

  save(update: PersistUpdate): void {
    this.#saves++;
    const first = (): number => (this.#snapshotMeta?.index ?? 0) + 1;
    if (update.snapshot !== undefined) {
      const { index, term, data } = update.snapshot;
      const entries = this.#entries;
      const drop = entriesCoveredBySnapshot(
        {
          firstIndex: first(),
          length: entries.length,
          termAt: (k) => (decode(entries[k] as Buffer) as LogEntry).term,
        },
        index,
        term,
      );
      this.#setEntries(entries.slice(drop));
      this.#snapshotMeta = { index, term };
      this.#snapshotData = data.slice();
    }
    if (update.entries !== undefined) {
      // In place: a save costs what it changes, not the length of the log (copy() slices).
      const keep = Math.max(0, update.entries.from - first());
      for (let i = keep; i < this.#entries.length; i++) {
        this.#entryBytes -= (this.#entries[i] as Buffer).length;
      }
      if (keep < this.#entries.length) this.#entries.length = keep;
      for (const entry of update.entries.entries) {
        const bytes = encode(entry);
        this.#entries.push(bytes);
        this.#entryBytes += bytes.length;
      }
    }
    if (update.hardState !== undefined) this.#hardState = encode(update.hardState);
  }

  raftStateSize(): number {
    return raftStateBytes({
      hardStateBytes: this.#hardState?.length ?? 0,
      entryBytes: this.#entryBytes,
      hasSnapshot: this.#snapshotMeta !== undefined,
    });
  }

  snapshotSize(): number {
    return this.#snapshotData.length;
  }

  /** How many saves this persister has taken (each one would be one fsync on disk). */
  get saveCount(): number {
    return this.#saves;
  }

  /** A copy holding exactly what was saved: what a restarted server starts from. */
  copy(): MemoryPersister {
    const copy = new MemoryPersister();
    copy.#hardState = this.#hardState;
    copy.#snapshotMeta = this.#snapshotMeta;
    copy.#snapshotData = this.#snapshotData;
    copy.#entries = this.#entries.slice();
    copy.#entryBytes = this.#entryBytes;
    return copy;
  }

  #setEntries(entries: Buffer[]): void {
    this.#entries = entries;
    this.#entryBytes = entries.reduce((sum, bytes) => sum + bytes.length, 0);
  }
}

import type { LogEntry } from './messages.js';
import { entriesCoveredBySnapshot } from './snapshot-rule.js';

/**
 * The Raft log after the latest snapshot: entries `snapshotIndex + 1 … lastIndex`.
 * Index 0 with term 0 is the empty log's sentinel, so `term(0) === 0` always holds.
 */
export class RaftLog {
  #snapshotIndex: number;
  #snapshotTerm: number;
  #entries: LogEntry[];

  constructor(snapshotIndex = 0, snapshotTerm = 0, entries: readonly LogEntry[] = []) {
    this.#snapshotIndex = snapshotIndex;
    this.#snapshotTerm = snapshotTerm;
    this.#entries = entries.slice();
  }

  get snapshotIndex(): number {
    return this.#snapshotIndex;
  }

  get snapshotTerm(): number {
    return this.#snapshotTerm;
  }

  get firstIndex(): number {
    return this.#snapshotIndex + 1;
  }

  get lastIndex(): number {
    return this.#snapshotIndex + this.#entries.length;
  }

  get lastTerm(): number {
    return this.term(this.lastIndex) as number;
  }

  /**
   * The term of the entry at `index`; undefined if compacted away (below the snapshot) or past
   * the end. Index 0 (before any entry) always has term 0, compacted or not.
   */
  term(index: number): number | undefined {
    if (index === this.#snapshotIndex) return this.#snapshotTerm;
    if (index === 0) return 0;
    if (index < this.#snapshotIndex || index > this.lastIndex) return undefined;
    return (this.#entries[index - this.firstIndex] as LogEntry).term;
  }

  entry(index: number): LogEntry | undefined {
    if (index < this.firstIndex) return undefined;
    return this.#entries[index - this.firstIndex];
  }

  /** Entries `from … to` inclusive, clamped to what the log holds (from must be ≥ firstIndex). */
  slice(from: number, to = this.lastIndex): LogEntry[] {
    return this.#entries.slice(from - this.firstIndex, to - this.firstIndex + 1);
  }

  append(entry: LogEntry): number {
    this.#entries.push(entry);
    return this.lastIndex;
  }

  /** Drops every entry at `index` and after. */
  truncateFrom(index: number): void {
    this.#entries.length = Math.max(0, index - this.firstIndex);
  }

  /** The Raft §5.4.1 "at least as up-to-date" comparison against another log's last entry. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  /** The first index holding `term`, searching back from `index` (fast backup on the follower side). */
  firstIndexOfTermEndingAt(index: number): number {
    const term = this.term(index);
    let first = index;
    while (first - 1 >= this.firstIndex && this.term(first - 1) === term) first--;
    return first;
  }

  /** The last index holding `term`, or undefined if the log holds no entry of it (leader side). */
  lastIndexOfTerm(term: number): number | undefined {
    for (let i = this.lastIndex; i >= this.firstIndex; i--) {
      const t = this.term(i) as number;
      if (t === term) return i;
      if (t < term) return undefined;
    }
    return undefined;
  }

  /**
   * Makes `index`/`term` the new snapshot point, by the one snapshot rule (snapshot-rule.ts):
   * entries after it are kept when the log holds that very entry; otherwise (a leader's
   * snapshot of a history this log diverged from) the whole log is dropped.
   */
  compact(index: number, term: number): void {
    const entries = this.#entries;
    const drop = entriesCoveredBySnapshot(
      { firstIndex: this.firstIndex, length: entries.length, termAt: (k) => entries[k]?.term },
      index,
      term,
    );
    this.#snapshotIndex = index;
    this.#snapshotTerm = term;
    this.#entries = entries.slice(drop);
  }
}

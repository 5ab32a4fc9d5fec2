import { InvariantViolationError } from '../errors.js';
import type { HardState, PersistedState, PersistUpdate } from '../persister/persister.js';
import { RaftLog } from './log.js';
import type { AppendEntriesArgs, AppendEntriesReply, LogEntry } from './messages.js';
import type { ApplyMsg, Ready } from './ready.js';

/**
 * The log and how far each part of it has got: handed to the persister, durable, committed,
 * applied (etcd-io/raft's raftLog with its unstable part). Changes to the log that move those
 * positions go through here, so that
 *
 *   persistedIndex < unstableFrom ≤ lastIndex + 1   and   appliedTo ≤ commitIndex
 *
 * hold between calls, and commitIndex never decreases. Appending needs no bookkeeping: new
 * entries are past `unstableFrom`, so the next Ready persists them.
 */
export class LogState {
  readonly log: RaftLog;
  /** The service's snapshot of everything through `log.snapshotIndex`. */
  #snapshotData: Uint8Array;
  #commitIndex: number;
  /** Highest index handed to the service for applying. */
  #appliedTo: number;
  /** Highest index known durable. */
  #persistedIndex: number;
  /** Lowest index not yet handed to the persister. */
  #unstableFrom: number;
  #snapshotDirty = false;
  #snapshotToApply = false;

  constructor(state?: PersistedState) {
    const snapshot = state?.snapshot;
    this.log = new RaftLog(snapshot?.index ?? 0, snapshot?.term ?? 0, state?.entries ?? []);
    this.#snapshotData = snapshot?.data ?? new Uint8Array(0);
    this.#commitIndex = this.log.snapshotIndex;
    this.#appliedTo = this.log.snapshotIndex;
    this.#persistedIndex = this.log.lastIndex;
    this.#unstableFrom = this.log.lastIndex + 1;
  }

  get commitIndex(): number {
    return this.#commitIndex;
  }

  get snapshotData(): Uint8Array {
    return this.#snapshotData;
  }

  /** The end of this log as far as it is durable: what a leader may count as its own replica. */
  get persistedIndex(): number {
    return Math.min(this.#persistedIndex, this.log.lastIndex);
  }

  // ---- changes to the log -------------------------------------------------------------------

  /**
   * AppendEntries from the leader of `term` (already checked to be current), rules 2–5 of
   * Figure 2: refuse unless the log matches at prevLogIndex, naming where the leader should
   * retry (fast backup, see AppendEntriesReply); drop a conflicting suffix; append what is new;
   * commit as far as the leader has, within what it sent. Throws InvariantViolationError,
   * changing nothing, if that would drop an entry at or below commitIndex.
   */
  appendEntries(args: AppendEntriesArgs, term: number): AppendEntriesReply {
    const log = this.log;
    let prev = args.prevLogIndex;
    let entries = args.entries;
    if (prev < log.snapshotIndex) {
      // The start of this batch is inside our snapshot, hence committed and matching.
      entries = entries.slice(Math.min(entries.length, log.snapshotIndex - prev));
      prev = log.snapshotIndex;
    } else if (prev > log.lastIndex) {
      return { term, success: false, conflictTerm: 0, conflictIndex: log.lastIndex + 1 };
    } else if (log.term(prev) !== args.prevLogTerm) {
      const conflictTerm = log.term(prev) as number;
      return {
        term,
        success: false,
        conflictTerm,
        conflictIndex: log.firstIndexOfTermEndingAt(prev),
      };
    }

    for (let i = 0; i < entries.length; i++) {
      const index = prev + 1 + i;
      const entry = entries[i] as (typeof entries)[number];
      if (index <= log.lastIndex) {
        if (log.term(index) === entry.term) continue;
        // Checked before anything changes (the first conflict comes before any append).
        if (index <= this.#commitIndex) {
          throw new InvariantViolationError(
            'committed-entry-truncated',
            `AppendEntries of term ${term} would replace entry ${index} (term ${log.term(index)}) ` +
              `with one of term ${entry.term}, at or below commitIndex ${this.#commitIndex}`,
          );
        }
        this.#truncateFrom(index);
      }
      log.append(entry);
    }
    const lastNew = prev + entries.length;
    if (args.leaderCommit > this.#commitIndex) {
      this.#commitIndex = Math.max(this.#commitIndex, Math.min(args.leaderCommit, lastNew));
    }
    return { term, success: true, conflictTerm: 0, conflictIndex: 0 };
  }

  /** Drops every entry at `index` and after, and whatever of them was durable or unsaved. */
  #truncateFrom(index: number): void {
    this.log.truncateFrom(index);
    this.#unstableFrom = Math.min(this.#unstableFrom, index);
    this.#persistedIndex = Math.min(this.#persistedIndex, index - 1);
  }

  /** Raises commitIndex to `index` (it never goes back). */
  commitTo(index: number): void {
    this.#commitIndex = Math.max(this.#commitIndex, index);
  }

  /** The leader's snapshot through `index` (past our commitIndex): persisted, then applied. */
  installSnapshot(index: number, term: number, data: Uint8Array): void {
    const log = this.log;
    log.compact(index, term);
    this.#snapshotData = data;
    this.#commitIndex = index;
    this.#snapshotDirty = true;
    this.#snapshotToApply = true;
    // compact() may have dropped the whole log: nothing past its new end is unstable any more.
    this.#unstableFrom = Math.max(
      Math.min(this.#unstableFrom, log.lastIndex + 1),
      log.snapshotIndex + 1,
    );
    this.#persistedIndex = Math.min(this.#persistedIndex, log.lastIndex);
  }

  /**
   * The service's snapshot of everything up to `index` (which it has applied). Entries up to
   * there are dropped from the log. Ignored for an index already covered or not yet applied.
   */
  compact(index: number, data: Uint8Array): boolean {
    if (index <= this.log.snapshotIndex || index > this.#appliedTo) return false;
    this.log.compact(index, this.log.term(index) as number);
    this.#snapshotData = data;
    this.#snapshotDirty = true;
    return true;
  }

  // ---- Ready --------------------------------------------------------------------------------

  /** Something is waiting to be persisted or applied. */
  get hasWork(): boolean {
    return (
      this.#snapshotDirty ||
      this.#snapshotToApply ||
      this.#unstableFrom <= this.log.lastIndex ||
      this.#appliedTo < Math.min(this.#commitIndex, this.log.lastIndex)
    );
  }

  /**
   * The Ready's `persist`: `hardState` (if it changed) with the snapshot and the entries not
   * yet handed to the persister, or undefined if there is nothing to save. They count as
   * handed over from now on.
   */
  takeUnsaved(hardState: HardState | undefined): PersistUpdate | undefined {
    const log = this.log;
    const snapshot = this.#snapshotDirty
      ? { index: log.snapshotIndex, term: log.snapshotTerm, data: this.#snapshotData }
      : undefined;
    const entries =
      this.#unstableFrom <= log.lastIndex
        ? { from: this.#unstableFrom, entries: log.slice(this.#unstableFrom) }
        : undefined;
    this.#snapshotDirty = false;
    this.#unstableFrom = log.lastIndex + 1;
    return hardState || snapshot || entries ? { hardState, snapshot, entries } : undefined;
  }

  /** The Ready's `apply`: an installed snapshot, then the committed entries not yet applied. */
  takeCommitted(): ApplyMsg[] {
    const log = this.log;
    const apply: ApplyMsg[] = [];
    if (this.#snapshotToApply) {
      this.#snapshotToApply = false;
      apply.push({
        type: 'snapshot',
        index: log.snapshotIndex,
        term: log.snapshotTerm,
        snapshot: this.#snapshotData,
      });
      this.#appliedTo = log.snapshotIndex;
    }
    const applyTo = Math.min(this.#commitIndex, log.lastIndex);
    for (let index = Math.max(this.#appliedTo + 1, log.firstIndex); index <= applyTo; index++) {
      const entry = log.entry(index) as LogEntry;
      apply.push(
        entry.noop === true
          ? { type: 'noop', index, term: entry.term }
          : { type: 'command', index, term: entry.term, command: entry.command },
      );
    }
    this.#appliedTo = Math.max(this.#appliedTo, applyTo);
    return apply;
  }

  /**
   * A Ready's persist completed, through its `persistedTo`. False if the log no longer holds
   * that entry (replaced while the save was in flight): then it proves nothing durable.
   */
  persisted(to: NonNullable<Ready['persistedTo']>): boolean {
    if (this.log.term(to.index) !== to.term) return false;
    this.#persistedIndex = Math.max(
      this.#persistedIndex,
      Math.min(to.index, this.#unstableFrom - 1),
    );
    return true;
  }
}

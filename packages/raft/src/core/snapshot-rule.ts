/**
 * The one rule for applying a snapshot through `index` (of term `term`) to a log: if the log
 * holds an entry at `index` with that term, the snapshot covers a prefix of this log and the
 * entries after it stay; otherwise (a leader's snapshot of a history this log diverged from,
 * one reaching past the log's end, or one at or below the log's current snapshot point) the
 * whole log goes. The core's log (log.ts) and both persisters apply it through this function,
 * so what a node holds in memory and what it holds on disk cannot drift apart.
 *
 * The log is described by the index of its first entry (the one after its snapshot point),
 * its length, and the term of the entry at a given offset from the first (called at most
 * once, so a persister may decode lazily). Returns how many leading entries to drop: all of
 * them (`length`) when none is kept.
 */
export function entriesCoveredBySnapshot(
  log: {
    readonly firstIndex: number;
    readonly length: number;
    termAt(offset: number): unknown;
  },
  index: number,
  term: number,
): number {
  const offset = index - log.firstIndex;
  const holdsIt = offset >= 0 && offset < log.length && log.termAt(offset) === term;
  return holdsIt ? offset + 1 : log.length;
}

/**
 * What the core tests feed a core: logs and persisted states built from lists of terms, RPC
 * arguments and replies with defaults, and the test service's snapshots (the list of commands
 * it applied).
 */
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  LogEntry,
  RequestVoteArgs,
} from '../../src/core/messages.js';
import { MemoryPersister } from '../../src/persister/memory-persister.js';
import type { PersistedState, Snapshot } from '../../src/persister/persister.js';

/** The command stored at `index` by `logOf`: easy to recognise in apply messages. */
export const cmdAt = (index: number, term: number): string => `i${index}t${term}`;

/** A log whose entry i+1 has term `terms[i]` and command `cmdAt(i + 1, term)`. */
export function logOf(terms: readonly number[], firstIndex = 1): LogEntry[] {
  return terms.map((term, i) => ({ term, command: cmdAt(firstIndex + i, term) }));
}

/** An InstallSnapshot reply: the follower holds the snapshot (`done`), or wants `nextOffset`. */
export const snapshotDone = (term: number) => ({ term, done: true, nextOffset: 0 });
export const snapshotNext = (term: number, nextOffset: number) => ({
  term,
  done: false,
  nextOffset,
});

/** Persisted state with the given term, vote and log terms (and optional snapshot). */
export function stateOf(
  term: number,
  votedFor: number | null,
  terms: readonly number[],
  snapshot?: Snapshot,
): PersistedState {
  return {
    hardState: { term, votedFor },
    snapshot,
    entries: logOf(terms, (snapshot?.index ?? 0) + 1),
  };
}

/** A MemoryPersister holding `state`, as if a core had saved it. */
export function persisterOf(state: PersistedState): MemoryPersister {
  const persister = new MemoryPersister();
  persister.save({
    hardState: state.hardState,
    snapshot: state.snapshot,
    entries: { from: (state.snapshot?.index ?? 0) + 1, entries: state.entries },
  });
  return persister;
}

export function appendArgs(args: Partial<AppendEntriesArgs> & { term: number }): AppendEntriesArgs {
  return { leaderId: 0, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, ...args };
}

export function voteArgs(args: Partial<RequestVoteArgs> & { term: number }): RequestVoteArgs {
  return { candidateId: 1, lastLogIndex: 0, lastLogTerm: 0, ...args };
}

export function snapshotArgs(
  args: Partial<InstallSnapshotArgs> & { term: number; lastIncludedIndex: number },
): InstallSnapshotArgs {
  return {
    leaderId: 0,
    lastIncludedTerm: args.term,
    offset: 0,
    data: new Uint8Array([1, 2, 3]),
    done: true,
    ...args,
  };
}

export const ok = (term: number): AppendEntriesReply => ({
  term,
  success: true,
  conflictTerm: 0,
  conflictIndex: 0,
});

export const reject = (term: number, conflictTerm: number, conflictIndex: number) => ({
  term,
  success: false,
  conflictTerm,
  conflictIndex,
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The test service's state is the list of commands it applied; its snapshot is that list. */
export function encodeSnapshot(commands: readonly unknown[]): Uint8Array {
  return encoder.encode(JSON.stringify(commands));
}

export function decodeSnapshot(data: Uint8Array): unknown[] {
  if (data.length === 0) return [];
  return JSON.parse(decoder.decode(data)) as unknown[];
}

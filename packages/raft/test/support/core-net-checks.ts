/**
 * The checks `CoreNet` runs: durability (after every persisted Ready, the durable state equals
 * the core's, and every reply or request in the Ready is backed by it), election safety, state
 * machine safety, and, at the end of a history, log matching and applied prefixes. Any breach
 * throws `CoreNetViolation`.
 */
import type {
  AppendEntriesArgs,
  InstallSnapshotArgs,
  LogEntry,
  RaftReplies,
  RequestVoteArgs,
} from '../../src/core/messages.js';
import type { RaftCore } from '../../src/core/raft.js';
import type { OutgoingRequest, Ready } from '../../src/core/ready.js';
import type { MemoryPersister } from '../../src/persister/memory-persister.js';

/** A safety or durability check of `CoreNet` failed. */
export class CoreNetViolation extends Error {
  override readonly name = 'CoreNetViolation';
}

export interface DurableView {
  readonly term: number;
  readonly votedFor: number | null;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** Entries after the snapshot. */
  readonly entries: readonly LogEntry[];
  readonly lastIndex: number;
}

export function durableView(persister: MemoryPersister): DurableView {
  const state = persister.load();
  const snapshotIndex = state?.snapshot?.index ?? 0;
  const entries = state?.entries ?? [];
  return {
    term: state?.hardState.term ?? 0,
    votedFor: state?.hardState.votedFor ?? null,
    snapshotIndex,
    snapshotTerm: state?.snapshot?.term ?? 0,
    entries,
    lastIndex: snapshotIndex + entries.length,
  };
}

/** The term of `index` in a durable log, or undefined if not held. */
export function durableTerm(view: DurableView, index: number): number | undefined {
  if (index === view.snapshotIndex) return view.snapshotTerm;
  return view.entries[index - view.snapshotIndex - 1]?.term;
}

/**
 * State machine safety: `committed` maps each index to the command first applied there (by
 * any node, in any incarnation); applying another command there is a breach.
 */
export function checkCommitted(
  committed: Map<number, unknown>,
  node: number,
  index: number,
  command: unknown,
): void {
  if (!committed.has(index)) {
    committed.set(index, command);
    return;
  }
  const before = committed.get(index);
  if (JSON.stringify(before) !== JSON.stringify(command)) {
    throw new CoreNetViolation(
      `state machine safety: node ${node} applied ${JSON.stringify(command)} at ${index}, ` +
        `another node applied ${JSON.stringify(before)}`,
    );
  }
}

/** Election safety: at most one leader per term. */
export function checkLeader(leaders: Map<number, number>, node: number, core: RaftCore): void {
  if (!core.isLeader) return;
  const other = leaders.get(core.term);
  if (other === undefined) leaders.set(core.term, node);
  else if (other !== node) {
    throw new CoreNetViolation(`election safety: ${other} and ${node} both lead term ${core.term}`);
  }
}

/**
 * Node `i` has just persisted `ready`: its durable state `d` must equal its in-memory state,
 * and nothing the Ready sends may depend on state that is not durable. `requestOf` finds the
 * incoming request a reply answers.
 */
export function checkDurable(
  i: number,
  core: RaftCore,
  d: DurableView,
  ready: Ready,
  requestOf: (requestId: number) => OutgoingRequest | undefined,
): void {
  const fail = (what: string): never => {
    throw new CoreNetViolation(`node ${i} (term ${core.term}): ${what}`);
  };
  if (d.term !== core.term) fail(`durable term ${d.term}, in memory ${core.term}`);
  if (d.votedFor !== core.votedFor) fail(`durable vote ${d.votedFor}, in memory ${core.votedFor}`);
  if (d.snapshotIndex !== core.snapshotIndex) {
    fail(`durable snapshot index ${d.snapshotIndex}, in memory ${core.snapshotIndex}`);
  }
  if (d.lastIndex !== core.lastIndex) {
    fail(`durable last index ${d.lastIndex}, in memory ${core.lastIndex}`);
  }
  for (const request of [...ready.requestsBeforePersist, ...ready.requests]) {
    // A pre-vote asks about term + 1 without taking it: nothing to persist.
    if (request.method === 'RequestVote' && (request.args as { preVote?: boolean }).preVote)
      continue;
    if (request.args.term > d.term) fail(`sends term ${request.args.term} before persisting it`);
    if (request.method === 'RequestVote' && request.args.term === d.term && d.votedFor !== i) {
      fail(`asks for votes in term ${d.term} without a durable vote for itself`);
    }
  }
  for (const { requestId, reply } of ready.replies) {
    if (reply.term > d.term) fail(`replies with term ${reply.term} before persisting it`);
    const request = requestOf(requestId);
    if (request === undefined || reply.term !== d.term) continue;
    if (
      request.method === 'RequestVote' &&
      !(request.args as RequestVoteArgs).preVote &&
      (reply as RaftReplies['RequestVote']).voteGranted
    ) {
      const { candidateId } = request.args as RequestVoteArgs;
      if (d.votedFor !== candidateId) fail(`grants a vote to ${candidateId} not durably cast`);
    }
    if (request.method === 'InstallSnapshot' && (reply as RaftReplies['InstallSnapshot']).done) {
      // "I hold that snapshot" must be durable: as the snapshot itself, or as a log reaching it.
      const { lastIncludedIndex } = request.args as InstallSnapshotArgs;
      if (d.snapshotIndex < lastIncludedIndex && d.lastIndex < lastIncludedIndex) {
        fail(`answers done for a snapshot through ${lastIncludedIndex} it does not durably hold`);
      }
    }
    if (request.method === 'AppendEntries' && (reply as RaftReplies['AppendEntries']).success) {
      const args = request.args as AppendEntriesArgs;
      args.entries.forEach((entry, k) => {
        const index = args.prevLogIndex + 1 + k;
        if (index <= d.snapshotIndex) return;
        const held = d.entries[index - d.snapshotIndex - 1];
        if (
          held?.term !== entry.term ||
          JSON.stringify(held.command) !== JSON.stringify(entry.command)
        ) {
          fail(`acknowledges entry ${index} (term ${entry.term}) it has not durably stored`);
        }
      });
    }
  }
}

/**
 * Node `i` is about to send `ready.requestsBeforePersist`, its persist not yet done: they may
 * depend on nothing that `d`, its durable state before the persist, lacks. They are a leader's
 * AppendEntries or InstallSnapshot of a durable term, never a vote request.
 */
export function checkSentBeforePersist(i: number, d: DurableView, ready: Ready): void {
  for (const request of ready.requestsBeforePersist) {
    if (request.method === 'RequestVote') {
      throw new CoreNetViolation(`node ${i}: a RequestVote may not leave before its persist`);
    }
    if (request.args.term > d.term) {
      throw new CoreNetViolation(
        `node ${i}: sends ${request.method} of term ${request.args.term} before its persist, ` +
          `durable term ${d.term}`,
      );
    }
  }
}

/** Log matching over durable logs: same index and term ⇒ identical prefixes. */
export function checkLogMatching(views: readonly DurableView[]): void {
  for (let a = 0; a < views.length; a++) {
    for (let b = a + 1; b < views.length; b++) {
      const x = views[a] as DurableView;
      const y = views[b] as DurableView;
      const from = Math.max(x.snapshotIndex, y.snapshotIndex) + 1;
      const to = Math.min(x.lastIndex, y.lastIndex);
      let matchedFrom = -1;
      for (let index = to; index >= from; index--) {
        if (durableTerm(x, index) === durableTerm(y, index)) {
          matchedFrom = index;
          break;
        }
      }
      for (let index = from; index <= matchedFrom; index++) {
        const ex = x.entries[index - x.snapshotIndex - 1] as LogEntry;
        const ey = y.entries[index - y.snapshotIndex - 1] as LogEntry;
        if (ex.term !== ey.term || JSON.stringify(ex.command) !== JSON.stringify(ey.command)) {
          throw new CoreNetViolation(
            `log matching: nodes ${a} and ${b} agree at ${matchedFrom} but differ at ${index}`,
          );
        }
      }
    }
  }
}

/** Every node's applied sequence is a prefix of the longest one. */
export function checkAppliedPrefixes(applied: readonly (readonly unknown[])[]): void {
  const longest = applied.reduce((a, b) => (b.length > a.length ? b : a), []);
  applied.forEach((list, i) => {
    list.forEach((command, k) => {
      if (JSON.stringify(command) !== JSON.stringify(longest[k])) {
        throw new CoreNetViolation(`node ${i}'s applied sequence is not a prefix at ${k + 1}`);
      }
    });
  });
}

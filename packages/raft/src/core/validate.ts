import type { RaftArgs, RaftMethod, RaftReplies } from './messages.js';

/**
 * Shape checks for what arrives from the network. A peer is trusted to follow the protocol,
 * but a frame that is not even the right shape must be refused, never stepped into the core.
 */
type Guard<T> = (value: unknown) => value is T;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isIndex = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

const isPeer = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

function fields(value: unknown, checks: Record<string, (v: unknown) => boolean>): boolean {
  if (!isRecord(value)) return false;
  for (const [key, check] of Object.entries(checks)) if (!check(value[key])) return false;
  return true;
}

const isEntry = (value: unknown): boolean =>
  isRecord(value) && isIndex(value.term) && 'command' in value;

export const isArgs: { [M in RaftMethod]: Guard<RaftArgs[M]> } = {
  RequestVote: (v): v is RaftArgs['RequestVote'] =>
    fields(v, {
      term: isIndex,
      candidateId: isPeer,
      lastLogIndex: isIndex,
      lastLogTerm: isIndex,
      preVote: (p) => p === undefined || typeof p === 'boolean',
    }),
  AppendEntries: (v): v is RaftArgs['AppendEntries'] =>
    fields(v, {
      term: isIndex,
      leaderId: isPeer,
      prevLogIndex: isIndex,
      prevLogTerm: isIndex,
      leaderCommit: isIndex,
      entries: (e) => Array.isArray(e) && e.every(isEntry),
    }),
  InstallSnapshot: (v): v is RaftArgs['InstallSnapshot'] =>
    fields(v, {
      term: isIndex,
      leaderId: isPeer,
      lastIncludedIndex: isIndex,
      lastIncludedTerm: isIndex,
      data: (d) => d instanceof Uint8Array,
    }),
};

export const isReply: { [M in RaftMethod]: Guard<RaftReplies[M]> } = {
  RequestVote: (v): v is RaftReplies['RequestVote'] =>
    fields(v, { term: isIndex, voteGranted: (g) => typeof g === 'boolean' }),
  AppendEntries: (v): v is RaftReplies['AppendEntries'] =>
    fields(v, {
      term: isIndex,
      success: (s) => typeof s === 'boolean',
      conflictTerm: isIndex,
      conflictIndex: isIndex,
    }),
  InstallSnapshot: (v): v is RaftReplies['InstallSnapshot'] => fields(v, { term: isIndex }),
};

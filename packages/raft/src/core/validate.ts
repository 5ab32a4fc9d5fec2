import { type Guard, hasFields, isNonNegativeInteger, isRecord } from '@flotilla/transport/shape';
import type { RaftArgs, RaftMethod, RaftReplies } from './messages.js';

/**
 * Shape checks for what arrives from the network. A peer is trusted to follow the protocol,
 * but a frame that is not even the right shape must be refused, never stepped into the core.
 * Terms, indexes, byte offsets and peer ids are all non-negative safe integers (a snapshot
 * chunk's end, offset + length, too); whether a peer id names a member is the node's check (it
 * knows the cluster's size).
 */
const isEntry = (value: unknown): boolean =>
  isRecord(value) &&
  isNonNegativeInteger(value.term) &&
  'command' in value &&
  (value.noop === undefined || value.noop === true);

const isBoolean = (value: unknown): boolean => typeof value === 'boolean';

export const isArgs: { [M in RaftMethod]: Guard<RaftArgs[M]> } = {
  RequestVote: (v): v is RaftArgs['RequestVote'] =>
    hasFields(v, {
      term: isNonNegativeInteger,
      candidateId: isNonNegativeInteger,
      lastLogIndex: isNonNegativeInteger,
      lastLogTerm: isNonNegativeInteger,
      preVote: (p) => p === undefined || isBoolean(p),
    }),
  AppendEntries: (v): v is RaftArgs['AppendEntries'] =>
    hasFields(v, {
      term: isNonNegativeInteger,
      leaderId: isNonNegativeInteger,
      prevLogIndex: isNonNegativeInteger,
      prevLogTerm: isNonNegativeInteger,
      leaderCommit: isNonNegativeInteger,
      entries: (e) => Array.isArray(e) && e.every(isEntry),
    }),
  InstallSnapshot: (v): v is RaftArgs['InstallSnapshot'] =>
    hasFields(v, {
      term: isNonNegativeInteger,
      leaderId: isNonNegativeInteger,
      lastIncludedIndex: isNonNegativeInteger,
      lastIncludedTerm: isNonNegativeInteger,
      offset: isNonNegativeInteger,
      data: (d) => d instanceof Uint8Array,
      done: isBoolean,
    }) && isNonNegativeInteger((v.offset as number) + (v.data as Uint8Array).length),
};

export const isReply: { [M in RaftMethod]: Guard<RaftReplies[M]> } = {
  RequestVote: (v): v is RaftReplies['RequestVote'] =>
    hasFields(v, { term: isNonNegativeInteger, voteGranted: isBoolean }),
  AppendEntries: (v): v is RaftReplies['AppendEntries'] =>
    hasFields(v, {
      term: isNonNegativeInteger,
      success: isBoolean,
      conflictTerm: isNonNegativeInteger,
      conflictIndex: isNonNegativeInteger,
    }),
  InstallSnapshot: (v): v is RaftReplies['InstallSnapshot'] =>
    hasFields(v, { term: isNonNegativeInteger, done: isBoolean, nextOffset: isNonNegativeInteger }),
};

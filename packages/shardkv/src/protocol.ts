import { NSHARDS } from '@flotilla/shardctrler';
import { isNonNegativeInteger, isPositiveInteger, isRecord } from '@flotilla/transport';

/**
 * The wire protocol of the `ShardKV` service (the lab's shardkv/common.go), and the two calls
 * groups make to each other while a shard moves. Get carries no session (a linearizable read);
 * Put and Append carry the clerk's id and sequence number (one request in flight per clerk),
 * checked against the duplicate table of the key's shard, which moves with the shard.
 */

/** The RPC service name (the lab's). */
export const SERVICE = 'ShardKV';

export const OK = 'OK';
export const ErrNoKey = 'ErrNoKey';
/** This group does not serve the key's shard in its current configuration (or not yet). */
export const ErrWrongGroup = 'ErrWrongGroup';
export const ErrWrongLeader = 'ErrWrongLeader';
/** A later request of this clerk id was applied (two clerks share an id). */
export const ErrStale = 'ErrStale';
/** Group to group: the holder has not reached the configuration that hands the shard over yet. */
export const ErrNotReady = 'ErrNotReady';

/**
 * `configNum`: the configuration the clerk sent by (optional). A group behind it takes the
 * configurations up to it at once instead of at its next poll, and a request for a shard it is
 * pulling waits (bounded) for the shard to arrive.
 */
export interface GetArgs {
  readonly key: string;
  readonly configNum?: number;
}

export type PutAppendOp = 'Put' | 'Append';

export interface PutAppendArgs {
  readonly key: string;
  readonly value: string;
  readonly op: PutAppendOp;
  readonly clientId: number;
  readonly seq: number;
  readonly configNum?: number;
}

export interface GetReply {
  readonly err: typeof OK | typeof ErrNoKey | typeof ErrWrongGroup | typeof ErrWrongLeader;
  readonly value: string;
}

export interface PutAppendReply {
  readonly err: typeof OK | typeof ErrWrongGroup | typeof ErrWrongLeader | typeof ErrStale;
}

/**
 * One page of a shard that `handoff` (the number of the configuration that took it from its
 * holder) hands over: its items from `offset` on (keys in order, then duplicate-table rows),
 * as many as fit in `maxBytes` (always at least one).
 */
export interface PullShardArgs {
  readonly shard: number;
  readonly handoff: number;
  readonly offset: number;
  readonly maxBytes: number;
}

/** A duplicate-table row as it travels: a client and the latest seq applied for it. */
export type SessionRow = readonly [clientId: number | string, seq: number];

export type PullShardReply =
  | {
      readonly err: typeof OK;
      readonly data: readonly (readonly [string, string])[];
      readonly sessions: readonly SessionRow[];
      /** The page ends the shard. */
      readonly done: boolean;
    }
  | { readonly err: typeof ErrNotReady | typeof ErrWrongLeader };

/** The new holder has all of `shard` as of `handoff`: the old holder may delete its copy. */
export interface DeleteShardArgs {
  readonly shard: number;
  readonly handoff: number;
}

export interface DeleteShardReply {
  readonly err: typeof OK | typeof ErrWrongLeader;
}

const isShard = (x: unknown): x is number => isNonNegativeInteger(x) && x < NSHARDS;

const isConfigNum = (x: unknown): boolean => x === undefined || isNonNegativeInteger(x);

export function isGetArgs(x: unknown): x is GetArgs {
  return isRecord(x) && typeof x.key === 'string' && isConfigNum(x.configNum);
}

export function isPutAppendArgs(x: unknown): x is PutAppendArgs {
  return (
    isRecord(x) &&
    typeof x.key === 'string' &&
    typeof x.value === 'string' &&
    (x.op === 'Put' || x.op === 'Append') &&
    isNonNegativeInteger(x.clientId) &&
    isPositiveInteger(x.seq) &&
    isConfigNum(x.configNum)
  );
}

export function isPullShardArgs(x: unknown): x is PullShardArgs {
  return (
    isRecord(x) &&
    isShard(x.shard) &&
    isPositiveInteger(x.handoff) &&
    isNonNegativeInteger(x.offset) &&
    isPositiveInteger(x.maxBytes)
  );
}

export function isDeleteShardArgs(x: unknown): x is DeleteShardArgs {
  return isRecord(x) && isShard(x.shard) && isPositiveInteger(x.handoff);
}

export function isGetReply(x: unknown): x is GetReply {
  return (
    isRecord(x) &&
    (x.err === OK || x.err === ErrNoKey || x.err === ErrWrongGroup || x.err === ErrWrongLeader) &&
    typeof x.value === 'string'
  );
}

export function isPutAppendReply(x: unknown): x is PutAppendReply {
  return (
    isRecord(x) &&
    (x.err === OK || x.err === ErrWrongGroup || x.err === ErrWrongLeader || x.err === ErrStale)
  );
}

const isPair = (x: unknown): x is readonly [string, string] =>
  Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && typeof x[1] === 'string';

const isSessionRow = (x: unknown): x is SessionRow =>
  Array.isArray(x) &&
  x.length === 2 &&
  (typeof x[0] === 'string' || Number.isSafeInteger(x[0])) &&
  isPositiveInteger(x[1]);

export function isPullShardReply(x: unknown): x is PullShardReply {
  if (!isRecord(x)) return false;
  if (x.err === ErrNotReady || x.err === ErrWrongLeader) return true;
  return (
    x.err === OK &&
    typeof x.done === 'boolean' &&
    Array.isArray(x.data) &&
    x.data.every(isPair) &&
    Array.isArray(x.sessions) &&
    x.sessions.every(isSessionRow)
  );
}

export function isDeleteShardReply(x: unknown): x is DeleteShardReply {
  return isRecord(x) && (x.err === OK || x.err === ErrWrongLeader);
}

import { isNonNegativeInteger, isPositiveInteger, isRecord } from '@flotilla/transport';
import { type Config, NSHARDS } from './config.js';
import type { InvalidReason } from './errors.js';
import type { Invalid } from './validate.js';

/**
 * The wire protocol of the `ShardCtrler` service (the lab's shardctrler/common.go). Query
 * carries no session (it is a linearizable read); Join, Leave and Move carry the clerk's id
 * and its sequence number (1, 2, …, one request in flight per clerk), rsm's session.
 */

/** The RPC service name (the lab's). */
export const SERVICE = 'ShardCtrler';

export const OK = 'OK';
export const ErrWrongLeader = 'ErrWrongLeader';
/** A later request of this clerk id was applied (two clerks share an id). */
export const ErrStale = 'ErrStale';
/** The op was refused (`invalid` says why); no configuration was created. */
export const ErrInvalidArgument = 'ErrInvalidArgument';

interface Session {
  readonly clientId: number;
  readonly seq: number;
}

export interface QueryArgs {
  readonly num: number;
}

/** The lab's `{ gid: servers }`, keys in decimal. */
export interface JoinArgs extends Session {
  readonly servers: Readonly<Record<string, readonly string[]>>;
}

export interface LeaveArgs extends Session {
  readonly gids: readonly number[];
}

export interface MoveArgs extends Session {
  readonly shard: number;
  readonly gid: number;
}

export type QueryReply =
  | { readonly err: typeof OK; readonly config: Config }
  | { readonly err: typeof ErrWrongLeader }
  | { readonly err: typeof ErrInvalidArgument; readonly invalid: Invalid };

/** `num`: the configuration the op created. */
export type WriteReply =
  | { readonly err: typeof OK; readonly num: number }
  | { readonly err: typeof ErrWrongLeader }
  | { readonly err: typeof ErrStale }
  | { readonly err: typeof ErrInvalidArgument; readonly invalid: Invalid };

function isSession(x: Record<string, unknown>): boolean {
  return isNonNegativeInteger(x.clientId) && isPositiveInteger(x.seq);
}

// The guards check shapes only; the values (a gid of 0, a shard out of range, …) are checked
// by the handlers and the state machine, which answer `ErrInvalidArgument` with the reason.

export function isQueryArgs(x: unknown): x is QueryArgs {
  return isRecord(x) && typeof x.num === 'number';
}

export function isJoinArgs(x: unknown): x is JoinArgs {
  return isRecord(x) && isRecord(x.servers) && isSession(x);
}

export function isLeaveArgs(x: unknown): x is LeaveArgs {
  return isRecord(x) && Array.isArray(x.gids) && isSession(x);
}

export function isMoveArgs(x: unknown): x is MoveArgs {
  return isRecord(x) && typeof x.shard === 'number' && typeof x.gid === 'number' && isSession(x);
}

const REASONS: ReadonlySet<string> = new Set<InvalidReason>([
  'BAD_GID',
  'DUPLICATE_GID',
  'BAD_SERVERS',
  'BAD_SHARD',
  'BAD_CONFIG_NUM',
  'GID_ALREADY_JOINED',
  'UNKNOWN_GID',
  'MOVE_TO_UNKNOWN_GID',
]);

function isInvalid(x: unknown): x is Invalid {
  return (
    isRecord(x) &&
    typeof x.reason === 'string' &&
    REASONS.has(x.reason) &&
    typeof x.message === 'string' &&
    (x.gid === undefined || typeof x.gid === 'number') &&
    (x.shard === undefined || typeof x.shard === 'number')
  );
}

/** A configuration as the service makes them (see `Config`'s invariants). */
export function isConfig(x: unknown): x is Config {
  if (!(isRecord(x) && isNonNegativeInteger(x.num) && isRecord(x.groups))) return false;
  const { shards, groups } = x;
  if (!(Array.isArray(shards) && shards.length === NSHARDS && shards.every(isNonNegativeInteger)))
    return false;
  return Object.values(groups).every(
    (list) => Array.isArray(list) && list.every((s) => typeof s === 'string'),
  );
}

export function isQueryReply(x: unknown): x is QueryReply {
  if (!isRecord(x)) return false;
  if (x.err === OK) return isConfig(x.config);
  if (x.err === ErrInvalidArgument) return isInvalid(x.invalid);
  return x.err === ErrWrongLeader;
}

export function isWriteReply(x: unknown): x is WriteReply {
  if (!isRecord(x)) return false;
  if (x.err === OK) return isNonNegativeInteger(x.num);
  if (x.err === ErrInvalidArgument) return isInvalid(x.invalid);
  return x.err === ErrWrongLeader || x.err === ErrStale;
}

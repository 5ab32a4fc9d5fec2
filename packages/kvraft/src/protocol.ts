import { isNonNegativeInteger, isPositiveInteger, isRecord } from '@flotilla/transport';

/**
 * The wire protocol of the `KVServer` service (the lab's common.go). Get carries no session;
 * Put and Append carry the clerk's id and its sequence number (1, 2, …, one request in flight
 * per clerk), rsm's session for exactly-once application.
 */

/** The RPC service name (the lab's). */
export const SERVICE = 'KVServer';

/** The lab's `Err` values, plus `ErrStale` (see `PutAppendReply`). */
export const OK = 'OK';
export const ErrNoKey = 'ErrNoKey';
export const ErrWrongLeader = 'ErrWrongLeader';
export const ErrStale = 'ErrStale';

export interface GetArgs {
  readonly key: string;
}

export type PutAppendOp = 'Put' | 'Append';

export interface PutAppendArgs {
  readonly key: string;
  readonly value: string;
  readonly op: PutAppendOp;
  readonly clientId: number;
  readonly seq: number;
}

/** `ErrNoKey` comes with `value: ""`: the key was never written. */
export interface GetReply {
  readonly err: typeof OK | typeof ErrNoKey | typeof ErrWrongLeader;
  readonly value: string;
}

/**
 * `ErrStale`: the server has applied a later request of this clerk id than `seq`. A clerk with
 * one request in flight only sees it if two clerks share an id.
 */
export interface PutAppendReply {
  readonly err: typeof OK | typeof ErrWrongLeader | typeof ErrStale;
}

export function isGetArgs(x: unknown): x is GetArgs {
  return isRecord(x) && typeof x.key === 'string';
}

export function isPutAppendArgs(x: unknown): x is PutAppendArgs {
  return (
    isRecord(x) &&
    typeof x.key === 'string' &&
    typeof x.value === 'string' &&
    (x.op === 'Put' || x.op === 'Append') &&
    isNonNegativeInteger(x.clientId) &&
    isPositiveInteger(x.seq)
  );
}

export function isGetReply(x: unknown): x is GetReply {
  return (
    isRecord(x) &&
    (x.err === OK || x.err === ErrNoKey || x.err === ErrWrongLeader) &&
    typeof x.value === 'string'
  );
}

export function isPutAppendReply(x: unknown): x is PutAppendReply {
  return isRecord(x) && (x.err === OK || x.err === ErrWrongLeader || x.err === ErrStale);
}

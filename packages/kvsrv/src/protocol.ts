import { isNonNegativeInteger, isPositiveInteger, isRecord } from '@flotilla/transport';

/**
 * The wire protocol of the `KVServer` service. Get carries no duplicate-detection state;
 * Put and Append carry the clerk's id and a per-clerk sequence number (1, 2, …), one request
 * in flight per clerk, so a request with sequence `n` tells the server that the clerk has
 * seen the replies to everything before `n`.
 */

/** The RPC service name (the lab's). */
export const SERVICE = 'KVServer';

export interface GetArgs {
  readonly key: string;
  /**
   * Optional acknowledgement: the clerk has seen the reply to its request `seq`, so the server
   * may free the Append reply it keeps for that request. Never creates state.
   */
  readonly clientId?: number;
  readonly seq?: number;
}

export interface UpdateArgs {
  readonly key: string;
  readonly value: string;
  readonly clientId: number;
  readonly seq: number;
}

export type Refusal =
  | {
      readonly err: 'KEY_TOO_LARGE' | 'VALUE_TOO_LARGE';
      readonly size: number;
      readonly limit: number;
    }
  | { readonly err: 'STALE' };

/** Get and Append answer a value; Put answers `{}`. */
export type Reply = { readonly value?: string } | Refusal;

export function isGetArgs(x: unknown): x is GetArgs {
  if (!isRecord(x) || typeof x.key !== 'string') return false;
  if (x.clientId === undefined && x.seq === undefined) return true;
  // Client ids are drawn from [0, 2^53); `seq` 0 acknowledges nothing, harmlessly.
  return isNonNegativeInteger(x.clientId) && isNonNegativeInteger(x.seq);
}

export function isUpdateArgs(x: unknown): x is UpdateArgs {
  return (
    isRecord(x) &&
    typeof x.key === 'string' &&
    typeof x.value === 'string' &&
    isNonNegativeInteger(x.clientId) &&
    isPositiveInteger(x.seq)
  );
}

export function isReply(x: unknown): x is Reply {
  if (!isRecord(x)) return false;
  if (x.err === undefined) return x.value === undefined || typeof x.value === 'string';
  if (x.err === 'STALE') return true;
  return (
    (x.err === 'KEY_TOO_LARGE' || x.err === 'VALUE_TOO_LARGE') &&
    typeof x.size === 'number' &&
    typeof x.limit === 'number'
  );
}

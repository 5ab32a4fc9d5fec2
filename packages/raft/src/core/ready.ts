import type { PersistUpdate } from '../persister/persister.js';
import type { RaftArgs, RaftMethod, RaftReplies } from './messages.js';

/** A message applied to the service, in log order, exactly once per incarnation. */
export type ApplyMsg =
  | {
      readonly type: 'command';
      readonly index: number;
      readonly term: number;
      readonly command: unknown;
    }
  | {
      readonly type: 'snapshot';
      readonly index: number;
      readonly term: number;
      readonly snapshot: Uint8Array;
    };

/** An RPC for the driver to send to peer `to`; its outcome goes back via stepResponse/stepFailure. */
export interface OutgoingRequest<M extends RaftMethod = RaftMethod> {
  readonly to: number;
  readonly method: M;
  readonly args: RaftArgs[M];
  /** Leader-local read round this request confirms leadership for (see read-index.ts). */
  readonly round: number;
}

/** The answer to an incoming RPC, released only once the state it reflects is durable. */
export interface OutgoingReply {
  readonly requestId: number;
  readonly reply: RaftReplies[RaftMethod];
}

export type ReadOutcome =
  | { readonly id: number; readonly ok: true; readonly index: number }
  | { readonly id: number; readonly ok: false; readonly reason: 'not-leader' | 'not-ready' };

/**
 * One batch of work from the core, as in etcd-io/raft: the driver persists `persist`
 * (durably), then sends `requests` and `replies`, then applies `apply`, then calls
 * `advance(ready)`. Nothing in a Ready may be acted on before the persist completes.
 */
export interface Ready {
  readonly persist: PersistUpdate | undefined;
  readonly requests: readonly OutgoingRequest[];
  readonly replies: readonly OutgoingReply[];
  readonly apply: readonly ApplyMsg[];
  readonly reads: readonly ReadOutcome[];
  /** The last log entry this Ready persists, so advance() can count it toward commitment. */
  readonly persistedTo: { readonly index: number; readonly term: number } | undefined;
}

import type { PersistUpdate } from '../persister/persister.js';
import type { RaftArgs, RaftMethod, RaftReplies } from './messages.js';

/**
 * A message applied to the service, in log order, exactly once per incarnation. A `noop` is
 * the entry a new leader appends on election: the service has nothing to do for it but to
 * count `index` as applied (a read index may point at it).
 */
export type ApplyMsg =
  | {
      readonly type: 'command';
      readonly index: number;
      readonly term: number;
      readonly command: unknown;
    }
  | {
      readonly type: 'noop';
      readonly index: number;
      readonly term: number;
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
 * One batch of work from the core, as in etcd-io/raft: the driver sends
 * `requestsBeforePersist` (at once, or after the persist: both are correct), persists
 * `persist` (durably), then sends `requests` and `replies`, then applies `apply` and answers
 * `reads`, then calls `advance(ready)`. Nothing else in a Ready may be acted on before the
 * persist completes.
 */
export interface Ready {
  readonly persist: PersistUpdate | undefined;
  /**
   * Requests that may leave before `persist` is durable (raft-rs's `messages`, as against its
   * `persisted_messages`); see `splitRequests` for which and why.
   */
  readonly requestsBeforePersist: readonly OutgoingRequest[];
  /** Requests that must wait until `persist` is durable. */
  readonly requests: readonly OutgoingRequest[];
  readonly replies: readonly OutgoingReply[];
  readonly apply: readonly ApplyMsg[];
  readonly reads: readonly ReadOutcome[];
  /** The last log entry this Ready persists, so advance() can count it toward commitment. */
  readonly persistedTo: { readonly index: number; readonly term: number } | undefined;
}

/**
 * Which of a Ready's requests may leave before its own persist completes. A leader's
 * AppendEntries and InstallSnapshot may, so that its fsync and its followers' overlap (thesis
 * §10.2.1). That is safe because the core counts the leader's own log toward commitment only
 * once persisted (advance() with `persistedTo`), and nothing such a request carries depends on
 * unpersisted term or vote: a term or vote change in the same Ready (`persist.hardState`) keeps
 * everything waiting. RequestVotes (pre-votes included) always wait, and so do replies: each
 * acknowledges state that must be durable first. With nothing to persist, nothing waits, and
 * every request is in `requests`.
 */
export function splitRequests(
  persist: PersistUpdate | undefined,
  requests: readonly OutgoingRequest[],
): { readonly before: OutgoingRequest[]; readonly after: OutgoingRequest[] } {
  if (persist === undefined || persist.hardState !== undefined) {
    return { before: [], after: [...requests] };
  }
  const before: OutgoingRequest[] = [];
  const after: OutgoingRequest[] = [];
  for (const request of requests) (request.method === 'RequestVote' ? after : before).push(request);
  return { before, after };
}

/**
 * What the core has to send, collected between two Readies: its requests (in the order it
 * made them) and its replies; `take` hands them out with the rest of a Ready.
 */
export class Outbox {
  #requests: OutgoingRequest[] = [];
  #replies: OutgoingReply[] = [];

  /** Queues a request for the next Ready (handed to the core's parts as their way to send). */
  readonly send = (request: OutgoingRequest): void => {
    this.#requests.push(request);
  };

  reply(requestId: number, reply: OutgoingReply['reply']): void {
    this.#replies.push({ requestId, reply });
  }

  get hasWork(): boolean {
    return this.#requests.length > 0 || this.#replies.length > 0;
  }

  /**
   * The Ready made of `persist` (through the log's last entry `lastEntry`), `apply` and
   * `reads`, with everything queued since the last one, the requests split by `splitRequests`.
   */
  take(
    persist: PersistUpdate | undefined,
    lastEntry: { readonly index: number; readonly term: number },
    apply: readonly ApplyMsg[],
    reads: readonly ReadOutcome[],
  ): Ready {
    const { before, after } = splitRequests(persist, this.#requests);
    const ready: Ready = {
      persist,
      persistedTo: persist === undefined ? undefined : lastEntry,
      requestsBeforePersist: before,
      requests: after,
      replies: this.#replies,
      apply,
      reads,
    };
    this.#requests = [];
    this.#replies = [];
    return ready;
  }
}

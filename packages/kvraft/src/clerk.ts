import {
  type ClientEnd,
  type Clock,
  drawClientId,
  LeaderCaller,
  type LeaderJudge,
  type Random,
} from '@flotilla/transport';
import { clerkErrors } from './clerk-errors.js';
import { SessionConflictError } from './errors.js';
import { type KvLimits, kvLimits, oversize } from './limits.js';
import {
  ErrNoKey,
  ErrStale,
  ErrWrongLeader,
  isGetReply,
  isPutAppendReply,
  type PutAppendOp,
  SERVICE,
} from './protocol.js';

/** Per-attempt timeout: longer than the server's own 2 s submit and read timeouts (rsm's defaults). */
export const DEFAULT_CALL_TIMEOUT_MS = 3000;
/** Pause after every server in turn failed to answer (an election is likely under way). */
export const DEFAULT_RETRY_DELAY_MS = 100;

export interface ClerkOptions extends Partial<KvLimits> {
  /** This clerk's id in the duplicate table; default a drawn 53-bit id. Never share one. */
  readonly clientId?: number;
  /** Per-attempt timeout (default 3,000 ms); a timed-out attempt goes to the next server. */
  readonly callTimeoutMs?: number;
  /** Pause after a full round of servers without an answer (default 100 ms). */
  readonly retryDelayMs?: number;
  readonly clock?: Clock;
  /** The client id draw (when none is given); default from the OS. */
  readonly random?: Random;
  /** Called once by `close()`, which resolves after it: e.g. to close the ends' connections. */
  readonly onClose?: () => Promise<void> | void;
}

/**
 * The lab's kvraft clerk: `get`, `put` and `append` as promises that settle once, after a
 * leader applied (or read) them. It tries the server that answered last, and on
 * `ErrWrongLeader`, no reply or a time-out the next one, forever (pausing after each full
 * round); each Put/Append carries the clerk's id and a sequence number, so a resend applies
 * at most once (rsm's session).
 *
 * `ends` holds one end per server in any order (an index is not a server id). Operations on
 * one clerk run one at a time in call order (the sequence numbers need it); use several
 * clerks for concurrency. The clerk does not close the ends it is given (pass `onClose`).
 */
export class Clerk {
  readonly clientId: number;
  /** Keys and values over these are refused before sending (`KeyTooLargeError`, `ValueTooLargeError`). */
  readonly limits: KvLimits;
  /** The call loop: the remembered leader, retries, pauses, one op at a time, `close()`. */
  readonly #caller: LeaderCaller;
  /** The sequence number of this clerk's latest Put/Append (0: none yet). */
  #seq = 0;

  constructor(ends: readonly ClientEnd[], options: ClerkOptions = {}) {
    this.#caller = new LeaderCaller(ends, {
      callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      clock: options.clock,
      errors: clerkErrors,
      onClose: options.onClose,
    });
    this.clientId = options.clientId ?? drawClientId(options.random);
    this.limits = kvLimits(options);
  }

  /** The value of `key`, or "" if it was never written. */
  get(key: string): Promise<string> {
    const tooLarge = oversize(this.limits, key);
    if (tooLarge !== undefined) return Promise.reject(tooLarge);
    return this.#caller.serially(() =>
      this.#call<string>('Get', { key }, (reply) => {
        if (!isGetReply(reply)) return undefined;
        if (reply.err === ErrWrongLeader) return { done: false };
        return { done: true, value: reply.err === ErrNoKey ? '' : reply.value };
      }),
    );
  }

  /** Sets `key` to `value`. */
  put(key: string, value: string): Promise<void> {
    return this.#caller.serially(() => this.#putAppend('Put', key, value));
  }

  /** Appends `value` to `key`'s value; returns nothing (Lab 4). */
  append(key: string, value: string): Promise<void> {
    return this.#caller.serially(() => this.#putAppend('Append', key, value));
  }

  /**
   * Stops the clerk. At once, the operation in progress, the queued ones and any called later
   * reject with `ClerkClosedError` (the one in progress may or may not have taken effect; a
   * reply to it that comes later is ignored). Then runs `onClose` and resolves after it.
   * Idempotent: every call returns the first call's promise.
   */
  close(): Promise<void> {
    return this.#caller.close();
  }

  #putAppend(op: PutAppendOp, key: string, value: string): Promise<void> {
    const tooLarge = oversize(this.limits, key, value);
    if (tooLarge !== undefined) return Promise.reject(tooLarge);
    const seq = ++this.#seq;
    const args = { key, value, op, clientId: this.clientId, seq };
    return this.#call<void>('PutAppend', args, (reply) => {
      if (!isPutAppendReply(reply)) return undefined;
      if (reply.err === ErrStale) throw new SessionConflictError(this.clientId, seq);
      if (reply.err === ErrWrongLeader) return { done: false };
      return { done: true, value: undefined };
    });
  }

  #call<T>(method: 'Get' | 'PutAppend', args: object, judge: LeaderJudge<T>): Promise<T> {
    return this.#caller.call(`${SERVICE}.${method}`, args, judge);
  }
}

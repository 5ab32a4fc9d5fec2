import {
  type ClientEnd,
  type Clock,
  INTERRUPTED,
  Interrupter,
  isRetryable,
  type NoReplyCode,
  type Random,
  realClock,
} from '@flotilla/transport';
import { drawClientId } from './client-id.js';
import {
  BadRequestError,
  ClerkClosedError,
  KvraftConfigError,
  ServerError,
  SessionConflictError,
} from './errors.js';
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

/** A server's answer the clerk acts on: done, or try another server. */
type Answer<T> = { readonly done: true; readonly value: T } | { readonly done: false };

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
  readonly #ends: readonly ClientEnd[];
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #retryDelayMs: number;
  readonly #onClose: (() => Promise<void> | void) | undefined;
  /** The end that answered last (the lab's remembered leader). */
  #leader = 0;
  /** The sequence number of this clerk's latest Put/Append (0: none yet). */
  #seq = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** The one wait in progress (an attempt or a pause), ended by `close()`. */
  readonly #waits = new Interrupter();

  constructor(ends: readonly ClientEnd[], options: ClerkOptions = {}) {
    if (ends.length === 0) throw new KvraftConfigError('ends', 'must hold one end per server');
    this.#ends = [...ends];
    this.#clock = options.clock ?? realClock;
    this.clientId = options.clientId ?? drawClientId(options.random);
    this.#timeoutMs = positive('callTimeoutMs', options.callTimeoutMs, DEFAULT_CALL_TIMEOUT_MS);
    this.#retryDelayMs = positive('retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS);
    this.#onClose = options.onClose;
    this.limits = kvLimits(options);
  }

  /** The value of `key`, or "" if it was never written. */
  get(key: string): Promise<string> {
    const tooLarge = oversize(this.limits, key);
    if (tooLarge !== undefined) return Promise.reject(tooLarge);
    return this.#serially(() =>
      this.#call<string>('Get', { key }, (reply) => {
        if (!isGetReply(reply)) return undefined;
        if (reply.err === ErrWrongLeader) return { done: false };
        return { done: true, value: reply.err === ErrNoKey ? '' : reply.value };
      }),
    );
  }

  /** Sets `key` to `value`. */
  put(key: string, value: string): Promise<void> {
    return this.#serially(() => this.#putAppend('Put', key, value));
  }

  /** Appends `value` to `key`'s value; returns nothing (Lab 4). */
  append(key: string, value: string): Promise<void> {
    return this.#serially(() => this.#putAppend('Append', key, value));
  }

  /**
   * Stops the clerk. At once, the operation in progress, the queued ones and any called later
   * reject with `ClerkClosedError` (the one in progress may or may not have taken effect; a
   * reply to it that comes later is ignored). Then runs `onClose` and resolves after it.
   * Idempotent: every call returns the first call's promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    this.#closed = true;
    this.#waits.interrupt();
    await this.#onClose?.();
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

  #serially<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ClerkClosedError());
    const run = this.#tail.then(() => {
      if (this.#closed) throw new ClerkClosedError();
      return op();
    });
    // Not `run.catch(…)`: that would keep the last result alive.
    this.#tail = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /**
   * Sends `method` to one server after another until one answers `done`. `judge` reads a
   * reply: `undefined` for one of the wrong shape.
   */
  async #call<T>(
    method: 'Get' | 'PutAppend',
    args: Record<string, unknown>,
    judge: (reply: unknown) => Answer<T> | undefined,
  ): Promise<T> {
    const name = `${SERVICE}.${method}`;
    const n = this.#ends.length;
    for (let failures = 1; ; failures++) {
      if (this.#closed) throw new ClerkClosedError();
      const end = this.#ends[this.#leader] as ClientEnd;
      const result = await this.#waits.race(end.call(name, args, { timeoutMs: this.#timeoutMs }));
      if (result === INTERRUPTED || this.#closed) throw new ClerkClosedError();
      if (result.ok) {
        const answer = judge(result.reply);
        if (answer === undefined) {
          throw new BadRequestError(`${name}: the server's reply has the wrong shape`);
        }
        if (answer.done) return answer.value;
      } else if (!isRetryable(result.code)) {
        throw refusedCall(name, result.code, result.message);
      }
      this.#leader = (this.#leader + 1) % n;
      // Every server failed in turn: most likely no leader yet. Without the pause a clerk on a
      // reliable simulated network would spin at one virtual instant.
      if (failures % n === 0) await this.#waits.sleep(this.#clock, this.#retryDelayMs);
    }
  }
}

function refusedCall(name: string, code: NoReplyCode, message: string | undefined): Error {
  const detail = message ?? code;
  switch (code) {
    case 'BAD_ARGUMENTS':
    case 'UNKNOWN_METHOD':
    case 'BAD_FRAME':
      return new BadRequestError(`${name}: ${detail}`);
    case 'CLOSED':
      return new ClerkClosedError();
    default:
      return new ServerError(code, `${name}: ${detail}`);
  }
}

function positive(option: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (!(Number.isFinite(ms) && ms > 0)) {
    throw new KvraftConfigError(option, `(${String(ms)}) must be a positive number of ms`);
  }
  return ms;
}

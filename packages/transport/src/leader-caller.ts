import { type Clock, realClock } from './clock.js';
import { INTERRUPTED, Interrupter } from './interrupter.js';
import { type ClientEnd, isRetryable, type NoReplyCode } from './rpc.js';
import { Serial } from './serial.js';

/** A replica's answer as a caller's judge reads it: done with a value, or try another replica. */
export type LeaderAnswer<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/**
 * Reads one reply: `LeaderAnswer`, or `undefined` for a reply of the wrong shape. It may also
 * throw the caller's own error (a refusal that resending cannot fix); that ends the call.
 */
export type LeaderJudge<T> = (reply: unknown) => LeaderAnswer<T> | undefined;

/**
 * The errors a `LeaderCaller` throws, made by the service that uses it: every package keeps its
 * own error hierarchy with stable codes, so the mechanism only decides when, not what.
 */
export interface LeaderCallerErrors {
  /** The caller was closed, or its end was (`CLOSED`). */
  closed(): Error;
  /** The request or the reply cannot be right (`BAD_ARGUMENTS`, `UNKNOWN_METHOD`, `BAD_FRAME`, wrong shape). */
  badRequest(message: string): Error;
  /** Any other no-reply that resending does not fix (e.g. `HANDLER_ERROR`, `AUTH_FAILED`). */
  server(code: NoReplyCode, message: string): Error;
  /** A bad constructor argument: `option` names it. */
  config(option: string, message: string): Error;
}

export interface LeaderCallerOptions {
  /** Per-attempt timeout; a timed-out attempt goes to the next end. */
  readonly callTimeoutMs: number;
  /** Pause after a full round of ends without a `done` answer (an election is likely under way). */
  readonly retryDelayMs: number;
  readonly clock?: Clock;
  readonly errors: LeaderCallerErrors;
  /** Called once by `close()`, which resolves after it: e.g. to close the ends' connections. */
  readonly onClose?: () => Promise<void> | void;
}

/**
 * A clerk's way to a replicated service's leader: sends a call to one end after another until
 * one answers `done`, forever, remembering the end that answered last (the lab's remembered
 * leader). The next end is tried on a "try another" answer or a retryable no-reply; after each
 * full round of failures it pauses. Ends come in any order (an index is not a server id).
 * `serially` runs a clerk's operations one at a time in call order (sequence numbers need it);
 * `close()` cuts the wait in progress short. It does not close the ends (pass `onClose`).
 */
export class LeaderCaller {
  readonly #ends: readonly ClientEnd[];
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #retryDelayMs: number;
  readonly #errors: LeaderCallerErrors;
  readonly #onClose: (() => Promise<void> | void) | undefined;
  /** The end that answered last. */
  #leader = 0;
  readonly #serial = new Serial(() => (this.#closed ? this.#errors.closed() : undefined));
  #closed = false;
  #closing: Promise<void> | undefined;
  /** The one wait in progress (an attempt or a pause), ended by `close()`. */
  readonly #waits = new Interrupter();

  constructor(ends: readonly ClientEnd[], options: LeaderCallerOptions) {
    const { errors } = options;
    if (ends.length === 0) throw errors.config('ends', 'must hold one end per server');
    this.#ends = [...ends];
    this.#errors = errors;
    this.#clock = options.clock ?? realClock;
    this.#timeoutMs = positive(errors, 'callTimeoutMs', options.callTimeoutMs);
    this.#retryDelayMs = positive(errors, 'retryDelayMs', options.retryDelayMs);
    this.#onClose = options.onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `op` after every earlier one settled; rejects with `errors.closed()` once closed
   * (including queued ops that had not started).
   */
  serially<T>(op: () => Promise<T>): Promise<T> {
    return this.#serial.run(op);
  }

  /** Sends `name` (`"Service.method"`) to one end after another until `judge` says done. */
  async call<T>(name: string, args: unknown, judge: LeaderJudge<T>): Promise<T> {
    const n = this.#ends.length;
    for (let failures = 1; ; failures++) {
      if (this.#closed) throw this.#errors.closed();
      const end = this.#ends[this.#leader] as ClientEnd;
      const result = await this.#waits.race(end.call(name, args, { timeoutMs: this.#timeoutMs }));
      if (result === INTERRUPTED || this.#closed) throw this.#errors.closed();
      if (result.ok) {
        const answer = judge(result.reply);
        if (answer === undefined) {
          throw this.#errors.badRequest(`${name}: the server's reply has the wrong shape`);
        }
        if (answer.done) return answer.value;
      } else if (!isRetryable(result.code)) {
        throw this.#refused(name, result.code, result.message);
      }
      this.#leader = (this.#leader + 1) % n;
      // Every end failed in turn: most likely no leader yet. Without the pause a clerk on a
      // reliable simulated network would spin at one virtual instant.
      if (failures % n === 0) await this.#waits.sleep(this.#clock, this.#retryDelayMs);
    }
  }

  /**
   * Stops: at once, the call in progress, the queued ops and any later ones reject with
   * `errors.closed()` (a reply that comes later is ignored). Then runs `onClose` and resolves
   * after it. Idempotent: every call returns the first call's promise.
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

  #refused(name: string, code: NoReplyCode, message: string | undefined): Error {
    return refusal(this.#errors, code, `${name}: ${message ?? code}`);
  }
}

/**
 * The caller's error for a no-reply that resending cannot fix (not `isRetryable`): the request
 * cannot be right (`BAD_ARGUMENTS`, `UNKNOWN_METHOD`, `BAD_FRAME`), the end is closed, or any
 * other server failure (`HANDLER_ERROR`, `REPLY_TOO_LARGE`, `AUTH_FAILED`).
 */
export function refusal(errors: LeaderCallerErrors, code: NoReplyCode, message: string): Error {
  switch (code) {
    case 'BAD_ARGUMENTS':
    case 'UNKNOWN_METHOD':
    case 'BAD_FRAME':
      return errors.badRequest(message);
    case 'CLOSED':
      return errors.closed();
    default:
      return errors.server(code, message);
  }
}

function positive(errors: LeaderCallerErrors, option: string, ms: number): number {
  if (!(Number.isFinite(ms) && ms > 0)) {
    throw errors.config(option, `(${String(ms)}) must be a positive number of ms`);
  }
  return ms;
}

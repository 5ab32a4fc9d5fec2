import {
  type CallOptions,
  type CallResult,
  type ClientEnd,
  type Clock,
  drawClientId,
  FrameTooLargeError,
  INTERRUPTED,
  Interrupter,
  type NoReplyCode,
  noReplyKind,
  type Random,
  realClock,
  Serial,
  systemRandom,
} from '@flotilla/transport';
import {
  BadRequestError,
  ClerkClosedError,
  KeyTooLargeError,
  ServerError,
  SessionConflictError,
  ValueTooLargeError,
} from './errors.js';
import { isReply, SERVICE } from './protocol.js';

export interface ClerkOptions {
  /** This clerk's id on the server; default a random 53-bit id. Never share one between clerks. */
  readonly clientId?: number;
  /** Per-attempt timeout; default none (the end's own, e.g. `WsClient`'s `callTimeoutMs`). */
  readonly callTimeoutMs?: number;
  /** First pause after the server was unreachable, doubling per attempt (default 10 ms). */
  readonly retryDelayMs?: number;
  /** Longest pause between attempts (default 1 s). */
  readonly maxRetryDelayMs?: number;
  readonly clock?: Clock;
  /** Jitter for the pauses, and the client id when none is given. */
  readonly random?: Random;
  /** Called once by `close()`, which resolves after it: e.g. to close the end's connection. */
  readonly onClose?: () => Promise<void> | void;
}

/**
 * The lab's clerk: `get`, `put` and `append` as promises that settle once, after the server
 * answered. Each attempt that gets no reply is resent (forever, as in the lab), and each
 * Put/Append takes effect exactly once: it carries the clerk's id and a sequence number the
 * server uses to recognise a resend.
 *
 * Operations on one clerk run one at a time in call order (the sequence numbers need it);
 * use several clerks for concurrency. The clerk does not close the `ClientEnd` it is given
 * (pass `onClose` for that).
 */
export class Clerk {
  readonly clientId: number;
  readonly #end: ClientEnd;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #timeoutMs: number | undefined;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #onClose: (() => Promise<void> | void) | undefined;
  /** The sequence number of this clerk's latest Put/Append (0: none yet). */
  #seq = 0;
  /** Whether the server may still keep the reply to this clerk's latest Append. */
  #unacknowledged = false;
  readonly #serial = new Serial(() => (this.#closed ? new ClerkClosedError() : undefined));
  #closed = false;
  #closing: Promise<void> | undefined;
  /** The wait in progress (an attempt or a pause), ended by `close()`; operations run one at a time. */
  readonly #waits = new Interrupter();

  constructor(end: ClientEnd, options: ClerkOptions = {}) {
    this.#end = end;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? systemRandom;
    this.clientId = options.clientId ?? drawClientId(options.random);
    this.#timeoutMs = options.callTimeoutMs;
    this.#retryDelayMs = options.retryDelayMs ?? 10;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? 1000;
    this.#onClose = options.onClose;
  }

  /** The value of `key`, or "" if it was never written. */
  get(key: string): Promise<string> {
    return this.#serial.run(async () => {
      // Tell the server we saw our last Append's reply, so it can free the copy it keeps.
      const ack = this.#unacknowledged ? { clientId: this.clientId, seq: this.#seq } : {};
      const reply = await this.#call('Get', { key, ...ack });
      this.#unacknowledged = false;
      return reply.value ?? '';
    });
  }

  /** Sets `key` to `value`. */
  put(key: string, value: string): Promise<void> {
    return this.#serial.run(async () => {
      await this.#update('Put', key, value);
    });
  }

  /** Appends `value` to `key`'s value and resolves to the value before the append. */
  append(key: string, value: string): Promise<string> {
    return this.#serial.run(async () => (await this.#update('Append', key, value)).value ?? '');
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

  async #update(method: 'Put' | 'Append', key: string, value: string): Promise<{ value?: string }> {
    const seq = ++this.#seq;
    const reply = await this.#call(method, { key, value, clientId: this.clientId, seq });
    // Sending `seq` acknowledged every earlier reply; the server keeps this one only for an Append.
    this.#unacknowledged = method === 'Append';
    return reply;
  }

  /** Sends until the server answers; returns its reply or throws what it refused. */
  async #call(method: string, args: Record<string, unknown>): Promise<{ value?: string }> {
    const name = `${SERVICE}.${method}`;
    const options = this.#timeoutMs === undefined ? undefined : { timeoutMs: this.#timeoutMs };
    let pauses = 0;
    for (;;) {
      if (this.#closed) throw new ClerkClosedError();
      const result = await this.#waits.race(this.#send(name, args, options));
      if (result === INTERRUPTED || this.#closed) throw new ClerkClosedError();
      if (result.ok) return this.#accept(name, result.reply, args);
      const kind = noReplyKind(result.code);
      if (kind === 'lost') continue;
      if (kind === 'unavailable') {
        await this.#pause(pauses++);
        continue;
      }
      throw refusedCall(name, result.code, result.message);
    }
  }

  async #send(
    name: string,
    args: Record<string, unknown>,
    options: CallOptions | undefined,
  ): Promise<CallResult<unknown>> {
    try {
      return await this.#end.call(name, args, options);
    } catch (err) {
      // The transport refuses a request larger than the connection's frame limit (its own
      // or the server's); the value is what makes a kvsrv request large.
      if (err instanceof FrameTooLargeError)
        throw new ValueTooLargeError(
          err.size,
          err.limit,
          `request of ${err.size} bytes exceeds the connection's frame limit of ${err.limit} bytes`,
        );
      throw err;
    }
  }

  #accept(name: string, reply: unknown, args: Record<string, unknown>): { value?: string } {
    if (!isReply(reply))
      throw new BadRequestError(`${name}: the server's reply has the wrong shape`);
    // (A decoded `{ err: undefined }` is a reply too.)
    if (!('err' in reply) || reply.err === undefined) return reply as { value?: string };
    switch (reply.err) {
      case 'KEY_TOO_LARGE':
        throw new KeyTooLargeError(reply.size, reply.limit);
      case 'VALUE_TOO_LARGE':
        throw new ValueTooLargeError(reply.size, reply.limit);
      case 'STALE':
        if (typeof args.seq !== 'number')
          throw new BadRequestError(`${name}: the server answered STALE to a Get`);
        throw new SessionConflictError(this.clientId, args.seq);
    }
  }

  /** Waits before attempt `pauses + 1`: exponential, with the upper half jittered, cut short by `close()`. */
  #pause(pauses: number): Promise<void> {
    const cap = Math.min(this.#maxRetryDelayMs, this.#retryDelayMs * 2 ** Math.min(pauses, 30));
    const delay = cap / 2 + this.#random.next() * (cap / 2);
    return this.#waits.sleep(this.#clock, delay);
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

import WebSocket, { type RawData } from 'ws';
import { type Clock, realClock, type TimerHandle } from '../clock.js';
import { decode, describe, encode, errorMessage } from '../codec.js';
import { AuthFailedError, ClientClosedError, FrameTooLargeError } from '../errors.js';
import { type Logger, stderrLogger } from '../logger.js';
import { type Random, systemRandom } from '../random.js';
import {
  type CallOptions,
  type CallResult,
  type ClientEnd,
  isServerAnswer,
  type NoReplyCode,
} from '../rpc.js';
import {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_QUEUED_CALLS,
  DEFAULT_RECONNECT_INITIAL_DELAY_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
  HANDSHAKE_TIMEOUT_MS,
} from './defaults.js';
import {
  announcedFrameLimit,
  CloseCode,
  FrameType,
  isRequestId,
  PROTOCOL_VERSION,
} from './frames.js';

export interface ReconnectOptions {
  /** First delay after a lost connection (default 50 ms); doubles on each failed attempt. */
  readonly initialDelayMs?: number;
  /** Longest delay between attempts (default 5 s). */
  readonly maxDelayMs?: number;
}

export interface WsClientOptions {
  /** e.g. `ws://127.0.0.1:7000`. */
  readonly url: string;
  /** The server's shared secret, if it has one. */
  readonly authToken?: string;
  /** Default timeout of a call that passes none (default 10 s). */
  readonly callTimeoutMs?: number;
  /** Largest frame sent or accepted, in bytes (default 16 MiB). */
  readonly maxFrameBytes?: number;
  /** Hold new requests locally while this many bytes wait to be sent (default 4 MiB). */
  readonly highWaterMarkBytes?: number;
  /** Calls held locally beyond this fail at once with `OVERLOADED` (default 10,000). */
  readonly maxQueuedCalls?: number;
  /** Reconnect with exponential backoff and jitter (default on); `false` to stay closed. */
  readonly reconnect?: ReconnectOptions | false;
  /**
   * While the server is down — a connect attempt failed or the connection dropped, and no
   * attempt has succeeded since — calls get `UNREACHABLE` at once, and so do calls queued when
   * that happens, instead of being held until the client reconnects or they time out (default
   * false: held). For a caller with other servers to try, such as a clerk of a replicated
   * service: it moves on at once instead of waiting out its timeout on a dead server.
   */
  readonly failWhileDown?: boolean;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
}

export type WsClientState = 'connecting' | 'open' | 'closed' | 'auth-failed';

interface PendingCall {
  readonly id: number;
  readonly frame: Buffer;
  readonly resolve: (result: CallResult<unknown>) => void;
  readonly reject: (err: Error) => void;
  timer: TimerHandle | undefined;
  /** Written to a connection: its fate is tied to that connection from then on. */
  sent: boolean;
}

/**
 * A `ClientEnd` over WebSocket: many calls in flight on one connection, each with its own
 * timeout, matched to replies by id. Calls made while (re)connecting wait for the connection
 * (up to their timeout); calls in flight when a connection drops get `CONNECTION_LOST` at once.
 */
export class WsClient implements ClientEnd {
  readonly url: string;
  readonly #options: WsClientOptions;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: Logger;
  readonly #maxFrameBytes: number;
  readonly #highWaterMark: number;
  readonly #pending = new Map<number, PendingCall>();
  readonly #queue: PendingCall[] = [];
  readonly #readyWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  #socket: WebSocket | undefined;
  #state: WsClientState = 'connecting';
  #welcomed = false;
  /** Set by a failed attempt or a drop, cleared by a welcome (see `failWhileDown`). */
  #down = false;
  /** The frame limit the server announced in its welcome (its own limit, for requests). */
  #serverMaxFrameBytes = Number.POSITIVE_INFINITY;
  #nextId = 1;
  #attempt = 0;
  #reconnectTimer: TimerHandle | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WsClientOptions) {
    this.url = options.url;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? systemRandom;
    this.#logger = options.logger ?? stderrLogger;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#highWaterMark = options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES;
    this.#connect();
  }

  get state(): WsClientState {
    return this.#state;
  }

  /** Resolves once connected and welcomed; rejects if the client closes or auth fails first. */
  ready(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#state === 'auth-failed')
      return Promise.reject(new AuthFailedError('WsClient is auth-failed'));
    if (this.#state !== 'connecting')
      return Promise.reject(new ClientClosedError(`WsClient is ${this.#state}`));
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  call<R = unknown>(method: string, args: unknown, options?: CallOptions): Promise<CallResult<R>> {
    const id = this.#nextId++;
    let frame: Buffer;
    try {
      frame = encode([FrameType.REQUEST, id, method, args]);
    } catch (err) {
      return Promise.reject(err);
    }
    if (frame.length > this.#maxFrameBytes) {
      return Promise.reject(new FrameTooLargeError(frame.length, this.#maxFrameBytes));
    }
    if (this.#state === 'closed') return Promise.resolve({ ok: false, code: 'CLOSED' });
    if (this.#state === 'auth-failed') return Promise.resolve({ ok: false, code: 'AUTH_FAILED' });
    if (this.#down && this.#options.failWhileDown === true) {
      return Promise.resolve({ ok: false, code: 'UNREACHABLE', message: 'the server is down' });
    }
    if (this.#queue.length >= (this.#options.maxQueuedCalls ?? DEFAULT_MAX_QUEUED_CALLS)) {
      return Promise.resolve({ ok: false, code: 'OVERLOADED', message: 'too many calls queued' });
    }
    return new Promise<CallResult<R>>((resolve, reject) => {
      const call: PendingCall = {
        id,
        frame,
        resolve: resolve as (result: CallResult<unknown>) => void,
        reject,
        timer: undefined,
        sent: false,
      };
      const timeoutMs =
        options?.timeoutMs ?? this.#options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
      call.timer = this.#clock.setTimeout(() => {
        call.timer = undefined;
        this.#settle(call, { ok: false, code: 'TIMEOUT' });
      }, timeoutMs);
      this.#pending.set(id, call);
      if (this.#canSend()) this.#write(call);
      else this.#queue.push(call);
    });
  }

  /**
   * Closes the connection for good; calls in flight and queued get `CLOSED`, `ready()` waiters
   * `ClientClosedError`. Idempotent: every call gets the promise of the first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  #close(): Promise<void> {
    this.#state = 'closed';
    if (this.#reconnectTimer !== undefined) this.#clock.clearTimeout(this.#reconnectTimer);
    this.#failAll('CLOSED', () => true);
    this.#rejectReady(new ClientClosedError());
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.terminate();
    });
  }

  #connect(): void {
    this.#welcomed = false;
    const socket = new WebSocket(this.url, {
      maxPayload: this.#maxFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.#socket = socket;
    socket.binaryType = 'nodebuffer';
    socket.on('open', () => {
      const token = this.#options.authToken ?? null;
      socket.send(encode([FrameType.HELLO, PROTOCOL_VERSION, token, this.#maxFrameBytes]));
    });
    socket.on('message', (data, isBinary) => this.#onMessage(socket, data, isBinary));
    socket.on('error', (err) => {
      if (this.#attempt === 0)
        this.#logger.warn(
          { url: this.url, error: errorMessage(err) },
          'ws client: connection error',
        );
    });
    socket.on('close', (code) => this.#onClose(socket, code));
  }

  #onMessage(socket: WebSocket, data: RawData, isBinary: boolean): void {
    if (socket !== this.#socket) return;
    let frame: unknown;
    try {
      if (!isBinary) throw new Error('text frame');
      frame = decode(data as Buffer);
      if (!Array.isArray(frame)) throw new Error('frame is not an array');
    } catch (err) {
      this.#protocolError(socket, errorMessage(err));
      return;
    }
    const [type, id] = frame as [unknown, unknown];
    if (!this.#welcomed) {
      if (type === FrameType.WELCOME && id === PROTOCOL_VERSION) this.#onWelcome(frame[2]);
      else this.#protocolError(socket, 'bad welcome');
      return;
    }
    if (type === FrameType.REPLY && frame.length === 3 && isRequestId(id)) {
      const call = this.#pending.get(id);
      if (call !== undefined) this.#settle(call, { ok: true, reply: frame[2] });
      return;
    }
    if (type === FrameType.ERROR && frame.length === 4 && typeof id === 'number') {
      const [, , code, message] = frame as [unknown, unknown, unknown, unknown];
      const call = this.#pending.get(id);
      const text = typeof message === 'string' ? message : describe(code);
      if (call === undefined) {
        this.#logger.warn(
          { url: this.url, code, message: text },
          'ws client: error frame for no call',
        );
        return;
      }
      const failure: NoReplyCode = isServerAnswer(code) ? code : 'HANDLER_ERROR';
      this.#settle(call, { ok: false, code: failure, message: text });
      return;
    }
    this.#protocolError(socket, `unexpected frame type ${describe(type)}`);
  }

  #onWelcome(serverMaxFrameBytes: unknown): void {
    this.#welcomed = true;
    this.#serverMaxFrameBytes =
      announcedFrameLimit(serverMaxFrameBytes) ?? Number.POSITIVE_INFINITY;
    this.#state = 'open';
    this.#down = false;
    this.#attempt = 0;
    for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve();
    this.#flush();
  }

  #onClose(socket: WebSocket, code: number): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#failAll('CONNECTION_LOST', (call) => call.sent);
    if (this.#state === 'closed') return;
    if (code === CloseCode.AUTH_FAILED) {
      this.#state = 'auth-failed';
      this.#logger.warn({ url: this.url }, 'ws client: server refused the auth token');
      this.#failAll('AUTH_FAILED', () => true);
      this.#rejectReady(new AuthFailedError());
      return;
    }
    if (this.#options.reconnect === false) {
      this.#state = 'closed';
      this.#failAll('CLOSED', () => true);
      this.#rejectReady(new ClientClosedError('WsClient: connection closed'));
      return;
    }
    this.#state = 'connecting';
    this.#down = true;
    if (this.#options.failWhileDown === true) this.#failAll('UNREACHABLE', () => true);
    const initial = this.#options.reconnect?.initialDelayMs ?? DEFAULT_RECONNECT_INITIAL_DELAY_MS;
    const max = this.#options.reconnect?.maxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS;
    const base = Math.min(max, initial * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    const delay = base / 2 + this.#random.next() * (base / 2);
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state === 'connecting') this.#connect();
    }, delay);
  }

  #protocolError(socket: WebSocket, reason: string): void {
    this.#logger.warn({ url: this.url, reason }, 'ws client: bad frame from server; reconnecting');
    socket.terminate();
  }

  #canSend(): boolean {
    return (
      this.#welcomed &&
      this.#queue.length === 0 &&
      this.#socket !== undefined &&
      this.#socket.bufferedAmount <= this.#highWaterMark
    );
  }

  #write(call: PendingCall): void {
    if (call.frame.length > this.#serverMaxFrameBytes) {
      // Sent, the server would close the connection on every call in flight.
      this.#pending.delete(call.id);
      if (call.timer !== undefined) this.#clock.clearTimeout(call.timer);
      call.reject(new FrameTooLargeError(call.frame.length, this.#serverMaxFrameBytes));
      return;
    }
    const socket = this.#socket as WebSocket;
    call.sent = true;
    if (socket.bufferedAmount + call.frame.length > this.#highWaterMark) {
      socket.send(call.frame, () => this.#flush());
    } else {
      socket.send(call.frame);
    }
  }

  /** Sends queued calls while the connection is open and below its high-water mark. */
  #flush(): void {
    const socket = this.#socket;
    while (this.#queue.length > 0 && this.#welcomed && socket !== undefined) {
      if (socket.bufferedAmount > this.#highWaterMark) return;
      const call = this.#queue.shift() as PendingCall;
      if (this.#pending.has(call.id)) this.#write(call);
    }
  }

  #settle(call: PendingCall, result: CallResult<unknown>): void {
    if (!this.#pending.delete(call.id)) return;
    if (call.timer !== undefined) this.#clock.clearTimeout(call.timer);
    if (!call.sent) {
      const at = this.#queue.indexOf(call);
      if (at >= 0) this.#queue.splice(at, 1);
    }
    call.resolve(result);
  }

  #failAll(code: NoReplyCode, which: (call: PendingCall) => boolean): void {
    for (const call of [...this.#pending.values()]) {
      if (which(call)) this.#settle(call, { ok: false, code });
    }
  }

  #rejectReady(err: Error): void {
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(err);
  }
}

import { BadArgumentsError, RpcError } from './errors.js';

/**
 * Why a call got no reply. Every call ends in exactly one of: a reply, or one of these.
 * `noReplyKind` says what each means for a caller that wants to try again.
 *
 * Network outcomes (the handler may or may not have run):
 * - `DROPPED`: the network lost the request or the reply (simulated networks only).
 * - `UNREACHABLE`: the end is disabled or unconnected, or the server is gone.
 * - `TIMEOUT`: no reply within the call's timeout.
 * - `CONNECTION_LOST`: the connection closed while the call was in flight.
 * - `CLOSED`: the client end (or the whole network) was closed.
 * - `OVERLOADED`: too many calls queued locally behind a peer that is not reading, or the
 *   server refused the call for the same reason.
 * - `AUTH_FAILED`: the server refused the shared secret.
 *
 * Answers from the server that are not a reply (the handler did not complete normally):
 * - `UNKNOWN_METHOD`: no such service or method.
 * - `BAD_ARGUMENTS`: the handler rejected the arguments' shape.
 * - `HANDLER_ERROR`: the handler threw, or its reply could not be encoded.
 * - `REPLY_TOO_LARGE`: the reply exceeds the connection's frame limit.
 * - `BAD_FRAME`: the server could not parse the request frame.
 */
export type NoReplyCode =
  | 'DROPPED'
  | 'UNREACHABLE'
  | 'TIMEOUT'
  | 'CONNECTION_LOST'
  | 'CLOSED'
  | 'OVERLOADED'
  | 'AUTH_FAILED'
  | 'UNKNOWN_METHOD'
  | 'BAD_ARGUMENTS'
  | 'HANDLER_ERROR'
  | 'REPLY_TOO_LARGE'
  | 'BAD_FRAME';

/**
 * What a no-reply means to a caller that wants to try again:
 * - `lost`: the request or its reply went missing (`DROPPED`, `TIMEOUT`); the handler may have
 *   run. Resend at once (with a duplicate check on the server if the call is not idempotent).
 * - `unavailable`: the peer cannot take calls now (`UNREACHABLE`, `CONNECTION_LOST`,
 *   `OVERLOADED`); the handler may have run. Resend after a pause, or try another server.
 * - `closed`: this client end is closed (`CLOSED`); nothing more will be sent on it.
 * - `refused`: the server answered, or would answer, the same way again (`AUTH_FAILED` and
 *   every server answer that is not a reply); resending the same call does not help.
 */
export type NoReplyKind = 'lost' | 'unavailable' | 'closed' | 'refused';

const NO_REPLY_KIND: { readonly [C in NoReplyCode]: NoReplyKind } = {
  DROPPED: 'lost',
  TIMEOUT: 'lost',
  UNREACHABLE: 'unavailable',
  CONNECTION_LOST: 'unavailable',
  OVERLOADED: 'unavailable',
  CLOSED: 'closed',
  AUTH_FAILED: 'refused',
  UNKNOWN_METHOD: 'refused',
  BAD_ARGUMENTS: 'refused',
  HANDLER_ERROR: 'refused',
  REPLY_TOO_LARGE: 'refused',
  BAD_FRAME: 'refused',
};

/** How a caller should treat `code`; see `NoReplyKind`. */
export function noReplyKind(code: NoReplyCode): NoReplyKind {
  return NO_REPLY_KIND[code];
}

/** True for the outcomes after which sending the same call again may succeed (`lost`, `unavailable`). */
export function isRetryable(code: NoReplyCode): boolean {
  const kind = NO_REPLY_KIND[code];
  return kind === 'lost' || kind === 'unavailable';
}

/**
 * The codes a server sends back instead of a reply (in an ERROR frame, or as a simulated
 * server's answer): every `refused` code but `AUTH_FAILED` (which closes the connection), and
 * `OVERLOADED`.
 */
export function isServerAnswer(code: unknown): code is NoReplyCode {
  if (typeof code !== 'string' || !Object.hasOwn(NO_REPLY_KIND, code)) return false;
  if (code === 'OVERLOADED') return true;
  return code !== 'AUTH_FAILED' && NO_REPLY_KIND[code as NoReplyCode] === 'refused';
}

export type CallResult<R = unknown> =
  | { readonly ok: true; readonly reply: R }
  | { readonly ok: false; readonly code: NoReplyCode; readonly message?: string };

export interface CallOptions {
  /** Give up after this many milliseconds (on the end's clock) with `TIMEOUT`. */
  readonly timeoutMs?: number;
}

/**
 * One caller's link to one server: the lab's `ClientEnd`.
 *
 * `call` never rejects for network reasons; it resolves once with a reply or a no-reply
 * code. It rejects only for caller mistakes: arguments that cannot be encoded (`CodecError`),
 * or a request larger than the frame limit (`FrameTooLargeError`). The reply's type is the
 * caller's claim; validate it if the server is not trusted.
 */
export interface ClientEnd {
  call<R = unknown>(method: string, args: unknown, options?: CallOptions): Promise<CallResult<R>>;
}

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** The caller: a client end's name on a simulated network, the remote address on a socket. */
  readonly peer: string;
}

/**
 * A method handler: takes decoded arguments, returns the reply (or a promise of it).
 * Arguments come from the network: check their shape (see `validated`) before trusting them.
 */
export type Handler<A = never, R = unknown> = (args: A, context: CallContext) => R | Promise<R>;

/** A service: method names to handlers. Called as `"<service>.<method>"`. */
export type ServiceMethods = { readonly [method: string]: Handler<never, unknown> };

/**
 * Wraps a handler with an argument check. Calls whose arguments fail `isArgs` get
 * `BAD_ARGUMENTS` and never reach `handler`.
 */
export function validated<A, R>(
  isArgs: (args: unknown) => args is A,
  handler: Handler<A, R>,
): Handler<unknown, R> {
  return (args, context) => {
    if (!isArgs(args)) throw new BadArgumentsError('arguments do not have the expected shape');
    return handler(args, context);
  };
}

/** The reply of a successful call, or throws `RpcError` carrying the no-reply code. */
export function unwrap<R>(result: CallResult<R>, method = 'call'): R {
  if (result.ok) return result.reply;
  throw new RpcError(result.code, method, result.message ?? result.code);
}

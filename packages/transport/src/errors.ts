/**
 * Typed errors of @flotilla/transport. Each class has a stable `code`; match on the code,
 * not on the message.
 *
 * These are thrown (or used to reject) only for caller mistakes: a value that cannot be
 * encoded, a frame larger than the configured maximum, a misuse of the network API.
 * Network outcomes ("no reply") are never thrown: `ClientEnd.call` resolves them as
 * `{ ok: false, code }` results.
 */
export class TransportError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A value could not be encoded with msgpack (a function, symbol, BigInt, cycle…) or bytes could not be decoded. */
export class CodecError extends TransportError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CODEC', message, options);
  }
}

/** An outgoing frame exceeds the connection's `maxFrameBytes`. */
export class FrameTooLargeError extends TransportError {
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number) {
    super('ERR_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${limit} bytes`);
    this.size = size;
    this.limit = limit;
  }
}

/** Misuse of the simulated network's API: an unknown end, a reused name, a double connect. */
export class SimNetworkError extends TransportError {
  constructor(message: string) {
    super('ERR_SIM_NETWORK', message);
  }
}

/** Thrown by a handler (or by `validated`) when a call's arguments have the wrong shape; the caller sees `BAD_ARGUMENTS`. */
export class BadArgumentsError extends TransportError {
  constructor(message: string) {
    super('ERR_BAD_ARGUMENTS', message);
  }
}

/** A service registered twice on the same server, or a malformed service/method name. */
export class ServiceDefinitionError extends TransportError {
  constructor(message: string) {
    super('ERR_SERVICE_DEFINITION', message);
  }
}

/** Thrown by `unwrap` when a call got no reply; `code` is the call's failure code. */
export class RpcError extends TransportError {
  readonly method: string;

  constructor(code: string, method: string, message: string) {
    super(code, `${method}: ${message}`);
    this.method = method;
  }
}

/** `WsClient.ready()` after the client closed (by `close()`, or for good with reconnect off). */
export class ClientClosedError extends TransportError {
  constructor(message = 'WsClient closed') {
    super('ERR_CLIENT_CLOSED', message);
  }
}

/** `WsClient.ready()` after the server refused the client's shared secret. */
export class AuthFailedError extends TransportError {
  constructor(message = 'WsClient: server refused the auth token') {
    super('ERR_AUTH_FAILED', message);
  }
}

/** A simulation could not go on: it waits on nothing, or it ran past its virtual-time or event budget. */
export class SimulationError extends TransportError {
  constructor(code: 'ERR_SIM_DEADLOCK' | 'ERR_SIM_BUDGET', message: string) {
    super(code, message);
  }
}

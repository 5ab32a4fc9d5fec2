/**
 * Typed errors of @flotilla/kvsrv. Each class has a stable `code`; match on the code, not on
 * the message. Network trouble is never an error: the clerk retries until the server answers.
 * These are the answers that retrying cannot change.
 */
export class KvsrvError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A key longer than the server's `maxKeyBytes` (UTF-8). Nothing was changed. */
export class KeyTooLargeError extends KvsrvError {
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number) {
    super('ERR_KEY_TOO_LARGE', `key of ${size} bytes exceeds the server's limit of ${limit} bytes`);
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A value (a Put's value, an Append's argument, or the value an Append would produce) larger
 * than the server's `maxValueBytes` (UTF-8), or a request too large for the connection's frame
 * limit (then `size` and `limit` are the frame's). Nothing was changed.
 */
export class ValueTooLargeError extends KvsrvError {
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number, message?: string) {
    super(
      'ERR_VALUE_TOO_LARGE',
      message ?? `value of ${size} bytes exceeds the server's limit of ${limit} bytes`,
    );
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The server refused the request as malformed or unknown (`BAD_ARGUMENTS`, `UNKNOWN_METHOD`):
 * the clerk and server disagree on the protocol, or the peer is not a kvsrv server.
 */
export class BadRequestError extends KvsrvError {
  constructor(message: string) {
    super('ERR_BAD_REQUEST', message);
  }
}

/**
 * The server failed in a way the clerk cannot retry past: its handler threw, its reply did
 * not fit the connection's frame limit, or it refused the shared secret. For an Append whose
 * reply was too large the append may have been applied.
 */
export class ServerError extends KvsrvError {
  /** The transport's no-reply code (`HANDLER_ERROR`, `REPLY_TOO_LARGE`, `AUTH_FAILED`). */
  readonly reason: string;

  constructor(reason: string, message: string) {
    super('ERR_SERVER', `${reason}: ${message}`);
    this.reason = reason;
  }
}

/**
 * The clerk was closed. An operation cut short by `close()` may or may not have taken effect;
 * it will not take effect twice.
 */
export class ClerkClosedError extends KvsrvError {
  constructor() {
    super('ERR_CLERK_CLOSED', 'the clerk is closed');
  }
}

/**
 * The server has seen a later request from this clerk's id than the one being retried: two
 * clerks share an id (pass distinct `clientId`s, or let the clerk draw one), or the server
 * was replaced by one with other history.
 */
export class SessionConflictError extends KvsrvError {
  constructor(clientId: number, seq: number) {
    super(
      'ERR_SESSION_CONFLICT',
      `the server has seen a later request than #${seq} from client ${clientId}`,
    );
  }
}

/** Bad command-line arguments to `flotilla-kvsrv`. */
export class UsageError extends KvsrvError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

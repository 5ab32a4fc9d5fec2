/**
 * Typed errors of @flotilla/shardkv. Each class has a stable `code`; match on the code, not on
 * the message. Network trouble, leader changes and shards on the move are never errors: the
 * clerk retries (re-reading the configuration) until the owning group answers. These are the
 * answers retrying cannot change.
 */
export class ShardKvError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The clerk was closed. An operation cut short by `close()` may or may not have taken effect;
 * it will not take effect twice.
 */
export class ClerkClosedError extends ShardKvError {
  constructor() {
    super('ERR_CLERK_CLOSED', 'the clerk is closed');
  }
}

/**
 * A server refused the request as malformed or unknown (`BAD_ARGUMENTS`, `UNKNOWN_METHOD`,
 * `BAD_FRAME`), or answered with a reply of the wrong shape: the clerk and server disagree on
 * the protocol, or the peer is not a shardkv server.
 */
export class BadRequestError extends ShardKvError {
  constructor(message: string) {
    super('ERR_BAD_REQUEST', message);
  }
}

/**
 * A server failed in a way the clerk cannot retry past: its handler threw, its reply was too
 * large, or it refused the shared secret. `reason` is the transport's no-reply code.
 */
export class ServerError extends ShardKvError {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super('ERR_SERVER', `${reason}: ${message}`);
    this.reason = reason;
  }
}

/**
 * The shard's duplicate table holds a later request from this clerk's id than the one being
 * retried: two clerks share an id (let the clerk draw one), or the cluster was replaced.
 */
export class SessionConflictError extends ShardKvError {
  readonly clientId: number;
  readonly seq: number;

  constructor(clientId: number, seq: number) {
    super(
      'ERR_SESSION_CONFLICT',
      `the service has applied a later request than #${seq} from client ${clientId}`,
    );
    this.clientId = clientId;
    this.seq = seq;
  }
}

/** A key over the clerk's `maxKeyBytes` (UTF-8 bytes): not sent. */
export class KeyTooLargeError extends ShardKvError {
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number) {
    super('ERR_KEY_TOO_LARGE', `the key is ${size} bytes, over the limit of ${limit}`);
    this.size = size;
    this.limit = limit;
  }
}

/** A Put or Append value over the clerk's `maxValueBytes` (UTF-8 bytes): not sent. */
export class ValueTooLargeError extends ShardKvError {
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number) {
    super('ERR_VALUE_TOO_LARGE', `the value is ${size} bytes, over the limit of ${limit}`);
    this.size = size;
    this.limit = limit;
  }
}

/** An option of `startShardKv`, `Clerk` or the CLI that cannot work; `option` names it. */
export class ShardKvConfigError extends ShardKvError {
  readonly option: string;

  constructor(option: string, message: string) {
    super('ERR_SHARDKV_CONFIG', `${option} ${message}`);
    this.option = option;
  }
}

/** `flotilla-shardkv` was given a command line it cannot run; the message says what is wrong. */
export class UsageError extends ShardKvError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

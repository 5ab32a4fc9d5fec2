/**
 * Typed errors of @flotilla/shardctrler. Each class has a stable `code`; match on the code, not
 * on the message. Network trouble and leader changes are never errors: the clerk retries until
 * a leader answers. These are the answers retrying cannot change.
 */
export class ShardCtrlerError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Why a Join, Leave, Move or Query was refused. The clerk finds the first five before sending;
 * the service finds the last three when the op is applied (they depend on the configuration
 * at that point of the log, e.g. another clerk joined the gid first).
 */
export type InvalidReason =
  /** A gid that is not a safe integer ≥ 1 (0 is the "no group" gid). */
  | 'BAD_GID'
  /** The same gid twice in one Join or Leave. */
  | 'DUPLICATE_GID'
  /** A Join with no groups, a group with no servers or a server name that is not a non-empty string, a Leave of no gids. */
  | 'BAD_SERVERS'
  /** A shard outside 0 … NSHARDS-1. */
  | 'BAD_SHARD'
  /** A Query number that is not an integer ≥ -1. */
  | 'BAD_CONFIG_NUM'
  /** Join of a gid already in the latest configuration. */
  | 'GID_ALREADY_JOINED'
  /** Leave of a gid not in the latest configuration. */
  | 'UNKNOWN_GID'
  /** Move to a gid not in the latest configuration. */
  | 'MOVE_TO_UNKNOWN_GID';

/**
 * A Join, Leave, Move or Query whose arguments cannot make a valid configuration: nothing was
 * changed (no configuration was created). `reason` says which rule; `gid` / `shard` name the
 * offending value when there is one.
 */
export class InvalidArgumentError extends ShardCtrlerError {
  readonly reason: InvalidReason;
  readonly gid: number | undefined;
  readonly shard: number | undefined;

  constructor(
    reason: InvalidReason,
    message: string,
    details: { readonly gid?: number; readonly shard?: number } = {},
  ) {
    super('ERR_INVALID_ARGUMENT', message);
    this.reason = reason;
    this.gid = details.gid;
    this.shard = details.shard;
  }
}

/**
 * The clerk was closed. An operation cut short by `close()` may or may not have taken effect;
 * it will not take effect twice.
 */
export class ClerkClosedError extends ShardCtrlerError {
  constructor() {
    super('ERR_CLERK_CLOSED', 'the clerk is closed');
  }
}

/**
 * A server refused the request as malformed or unknown (`BAD_ARGUMENTS`, `UNKNOWN_METHOD`,
 * `BAD_FRAME`), or answered with a reply of the wrong shape: the clerk and server disagree on
 * the protocol, or the peer is not a shard controller.
 */
export class BadRequestError extends ShardCtrlerError {
  constructor(message: string) {
    super('ERR_BAD_REQUEST', message);
  }
}

/**
 * A server failed in a way the clerk cannot retry past: its handler threw, its reply was too
 * large, or it refused the shared secret. `reason` is the transport's no-reply code.
 */
export class ServerError extends ShardCtrlerError {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super('ERR_SERVER', `${reason}: ${message}`);
    this.reason = reason;
  }
}

/**
 * The service has applied a later request from this clerk's id than the one being retried:
 * two clerks share an id (let the clerk draw one), or the cluster was replaced.
 */
export class SessionConflictError extends ShardCtrlerError {
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

/** An option of `Clerk`, `listenShardCtrler` or `connectClerk` that cannot work; `option` names it. */
export class ShardCtrlerConfigError extends ShardCtrlerError {
  readonly option: string;

  constructor(option: string, message: string) {
    super('ERR_SHARDCTRLER_CONFIG', `${option} ${message}`);
    this.option = option;
  }
}

/** `flotilla-shardctrler` was given a command line it cannot run. */
export class UsageError extends ShardCtrlerError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

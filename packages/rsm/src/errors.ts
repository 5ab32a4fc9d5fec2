/**
 * Typed errors of @flotilla/rsm. Match on `code`, not on the message.
 *
 * What a rejected `submit` tells the caller about its op (hashicorp/raft's api.go draws the
 * same line between ErrNotLeader and ErrLeadershipLost):
 *
 * | error                 | was the op applied?                                         |
 * | --------------------- | ----------------------------------------------------------- |
 * | `NotLeaderError`      | no: it was never proposed                                   |
 * | `StaleRequestError`   | an earlier run of it was; this one changed nothing          |
 * | `LeadershipLostError` | unknown: it may be applied, now or later                    |
 * | `SubmitTimeoutError`  | unknown: it may be applied, now or later                    |
 * | `RsmClosedError`      | unknown, if it was proposed before the close                |
 *
 * A client retries all but `StaleRequestError` with the same session (clientId, seq): the
 * duplicate table makes the retry apply at most once.
 */
export class RsmError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * This server is not the leader: the op was **never proposed** (or the read never started), so
 * it certainly did not happen here. Retry on `leaderHint`, if known.
 */
export class NotLeaderError extends RsmError {
  /** The leader this server knows of, or null. */
  readonly leaderHint: number | null;

  constructor(leaderHint: number | null) {
    super('ERR_NOT_LEADER', 'this server is not the leader');
    this.leaderHint = leaderHint;
  }
}

/**
 * The op was proposed at `index` in `term`, and then this server stopped being the leader of
 * that term, or another entry was applied at `index`. **The outcome is unknown**: the entry
 * may still commit under a later leader. Retry with the same session.
 */
export class LeadershipLostError extends RsmError {
  readonly index: number;
  readonly term: number;

  constructor(index: number, term: number) {
    super(
      'ERR_LEADERSHIP_LOST',
      `leadership lost before the entry at index ${index} (term ${term}) was applied; it may still apply`,
    );
    this.index = index;
    this.term = term;
  }
}

/**
 * The op was proposed but not applied within `timeoutMs` (for instance, its leader is cut off
 * in a minority and has not noticed yet). **The outcome is unknown**, as for
 * `LeadershipLostError`. Retry with the same session.
 */
export class SubmitTimeoutError extends RsmError {
  readonly index: number;
  readonly term: number;
  readonly timeoutMs: number;

  constructor(index: number, term: number, timeoutMs: number) {
    super(
      'ERR_SUBMIT_TIMEOUT',
      `the entry at index ${index} (term ${term}) was not applied within ${timeoutMs} ms; it may still apply`,
    );
    this.index = index;
    this.term = term;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A read did not complete within `timeoutMs`. A read changes nothing, so nothing happened;
 * retry anywhere.
 */
export class ReadTimeoutError extends RsmError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super('ERR_READ_TIMEOUT', `the read did not complete within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The op's session is older than the latest one the duplicate table holds for its client
 * (`seq < lastSeq`): that run was applied long ago and its result is no longer kept. The
 * entry changed nothing. A client with one op in flight never sees this; two clients sharing
 * one `clientId` do.
 */
export class StaleRequestError extends RsmError {
  readonly clientId: number | string;
  readonly seq: number;
  readonly lastSeq: number;

  constructor(clientId: number | string, seq: number, lastSeq: number) {
    super(
      'ERR_STALE_REQUEST',
      `request #${seq} of client ${String(clientId)} is older than its latest applied request #${lastSeq}`,
    );
    this.clientId = clientId;
    this.seq = seq;
    this.lastSeq = lastSeq;
  }
}

/**
 * The replicated state machine was closed (`close()` or `kill()`), or its Raft node stopped
 * on its own (then `cause` is why: see `onFatal`). Work cut short by it may or may not have
 * taken effect; work asked for after it never does.
 */
export class RsmClosedError extends RsmError {
  constructor(cause?: unknown) {
    super(
      'ERR_RSM_CLOSED',
      cause === undefined
        ? 'the replicated state machine is closed'
        : `the replicated state machine stopped: ${String(cause)}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** An option that cannot work; `option` names it. Thrown by `create` before anything starts. */
export class RsmConfigError extends RsmError {
  readonly option: string;

  constructor(option: string, message: string) {
    super('ERR_RSM_CONFIG', `${option} ${message}`);
    this.option = option;
  }
}

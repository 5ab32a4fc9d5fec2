/** Typed errors of @flotilla/raft. Match on `code`, not on the message. */
export class RaftError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** This node is not the leader (or stopped being one before a read was confirmed). */
export class NotLeaderError extends RaftError {
  /** The leader this node knows of, if any: a hint for where to retry. */
  readonly leaderHint: number | null;

  constructor(leaderHint: number | null) {
    super('ERR_NOT_LEADER', 'this node is not the leader');
    this.leaderHint = leaderHint;
  }
}

/**
 * A new leader cannot serve a read before an entry of its own term is committed (§8 of the
 * extended paper); propose a no-op command and retry.
 */
export class LeaderNotReadyError extends RaftError {
  constructor() {
    super('ERR_LEADER_NOT_READY', 'the leader has not committed an entry of its term yet');
  }
}

/** The node was killed. */
export class NodeKilledError extends RaftError {
  constructor() {
    super('ERR_KILLED', 'the raft node was killed');
  }
}

/** An RPC from a peer that does not have the shape of a Raft message. */
export class BadMessageError extends RaftError {
  constructor(method: string) {
    super('ERR_BAD_MESSAGE', `malformed ${method} message`);
  }
}

/**
 * Options that cannot work: a bad peer list, a non-positive tick, a FilePersister option out of
 * range (checked before anything touches the disk).
 */
export class RaftConfigError extends RaftError {
  /** The option at fault, when the error is about one option (e.g. `compactRatio`). */
  readonly option: string | undefined;

  constructor(message: string, option?: string) {
    super('ERR_RAFT_CONFIG', message);
    this.option = option;
  }
}

/**
 * An apply listener (`onApply`) threw. The node stops (it is passed to `onFatal`): the service
 * may have applied part of the message, so carrying on could make this replica's state differ
 * from the others'. `index` is the message's log index, `cause` what the listener threw.
 */
export class ApplyListenerError extends RaftError {
  readonly index: number;

  constructor(index: number, cause: unknown) {
    super('ERR_APPLY_LISTENER', `an apply listener threw at index ${index}: ${String(cause)}`, {
      cause,
    });
    this.index = index;
  }
}

/**
 * A state-change listener (`onStateChange`) threw. Reported through the node's logger (as
 * `err`); the node keeps running, since the listener only observed volatile state.
 */
export class StateListenerError extends RaftError {
  constructor(cause: unknown) {
    super('ERR_STATE_LISTENER', `a state-change listener threw: ${String(cause)}`, { cause });
  }
}

/**
 * The core was fed input that breaks one of Raft's invariants, such as an AppendEntries that
 * would replace an entry it knows is committed. That cannot happen between correct servers
 * (Leader Completeness), so this server's state or a peer's is broken and nothing it does next
 * can be trusted: the core stops (etcd-io/raft panics), its `ready()` throws this error, and
 * a node stops and passes it to `onFatal`. `invariant` names the rule that was broken.
 */
export class InvariantViolationError extends RaftError {
  readonly invariant: 'committed-entry-truncated';

  constructor(invariant: InvariantViolationError['invariant'], message: string) {
    super('ERR_INVARIANT_VIOLATION', message);
    this.invariant = invariant;
  }
}

/** What exactly is wrong with a persister directory; see `CorruptStateError`. */
export type CorruptStateReason =
  | 'bad-magic'
  | 'unknown-version'
  | 'checksum'
  | 'malformed'
  | 'truncated'
  | 'missing-snapshot'
  | 'snapshot-mismatch'
  | 'missing-wal';

/**
 * A persister directory is damaged: a checksum mismatch, an undecodable record, an unknown
 * format version, a snapshot file that is cut short or missing. Raised at open, never
 * papered over with empty state: the node must not start from a state it may not have
 * saved. `path` names the damaged file, `offset` the byte where the damage was found.
 */
export class CorruptStateError extends RaftError {
  readonly path: string;
  readonly offset: number;
  readonly reason: CorruptStateReason;

  constructor(
    path: string,
    offset: number,
    reason: CorruptStateReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_CORRUPT_STATE', `${path} at byte ${offset}: ${detail}`, options);
    this.path = path;
    this.offset = offset;
    this.reason = reason;
  }
}

/** `save` (or `compact`) on a persister that was closed. */
export class PersisterClosedError extends RaftError {
  constructor() {
    super('ERR_PERSISTER_CLOSED', 'the persister is closed');
  }
}

/**
 * An earlier write or fsync of this persister failed, so what is on disk is unknown (a failed
 * fsync cannot be retried: the kernel may have dropped the dirty pages). Every later `save`
 * rejects with this error; close the persister and open the directory again to recover.
 */
export class PersisterFailedError extends RaftError {
  constructor(cause: unknown) {
    super('ERR_PERSISTER_FAILED', `an earlier write to the persister failed: ${String(cause)}`, {
      cause,
    });
  }
}

/** Which step of the file persister's I/O failed; see `PersisterIoError`. */
export type PersisterIoOperation =
  | 'mkdir'
  | 'realpath'
  | 'open'
  | 'read'
  | 'readdir'
  | 'write'
  | 'fsync'
  | 'truncate'
  | 'rename';

/**
 * A file operation of the file persister failed (EIO, ENOSPC, EACCES…): `path` names the file
 * or directory, `operation` the step, `cause` the error the file system gave. `open` throws it
 * when recovery cannot read or repair the directory (nothing is left open or locked); while
 * running, it is the `cause` of the `PersisterFailedError` that stopped the persister, or what
 * `compact()` rejects with when the old WAL was kept.
 */
export class PersisterIoError extends RaftError {
  readonly path: string;
  readonly operation: PersisterIoOperation;

  constructor(path: string, operation: PersisterIoOperation, cause: unknown) {
    super('ERR_PERSISTER_IO', `${path}: ${operation} failed: ${String(cause)}`, { cause });
    this.path = path;
    this.operation = operation;
  }
}

/** An update that cannot be persisted: a non-integer index or term, snapshot data that is not bytes. */
export class InvalidUpdateError extends RaftError {
  constructor(message: string) {
    super('ERR_INVALID_UPDATE', message);
  }
}

/**
 * The directory is held by another FilePersister: one in this process, or the process `pid`
 * (on `host`) that its lock (`raft.lock`) names and that is still alive or cannot be checked.
 */
export class PersisterLockedError extends RaftError {
  readonly path: string;
  /** The holder's process id, when known. */
  readonly pid: number | undefined;
  /** The holder's host name, when its lock records one. */
  readonly host: string | undefined;

  constructor(
    path: string,
    detail?: string,
    holder?: { readonly pid?: number | undefined; readonly host?: string | undefined },
  ) {
    super(
      'ERR_PERSISTER_LOCKED',
      `${path} is already open by another FilePersister${detail === undefined ? '' : `: ${detail}`}`,
    );
    this.path = path;
    this.pid = holder?.pid;
    this.host = holder?.host;
  }
}

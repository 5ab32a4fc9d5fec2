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

/** Options that cannot work (a bad peer list, a non-positive tick). */
export class RaftConfigError extends RaftError {
  constructor(message: string) {
    super('ERR_RAFT_CONFIG', message);
  }
}

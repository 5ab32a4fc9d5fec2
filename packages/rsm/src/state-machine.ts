import type { Session, Sessions } from './sessions.js';

/** Where an op sits in the log when it is applied. */
export interface ApplyContext {
  readonly index: number;
  readonly term: number;
  /** The op's session, if it was submitted with one (it passed the duplicate table). */
  readonly session: Session | undefined;
}

/**
 * The service a `ReplicatedStateMachine` replicates (hashicorp/raft's `FSM`): every replica
 * applies the same ops in the same order, so every replica must reach the same state.
 *
 * - `apply` must be **deterministic**: a function of the state and the op alone. No clock, no
 *   randomness, no I/O, and no iteration whose order depends on how a collection was filled
 *   (a replica that restored from a snapshot filled its maps in another order than one that
 *   applied the log). It runs inside Raft's apply stream: if it throws, the Raft node stops
 *   (the state may be half-changed) and rsm closes with `RsmClosedError` (see `onFatal`).
 *   Throw only for a bug; answer bad input with a result.
 * - `snapshot()` returns the whole state: a `Uint8Array` of your own encoding, or any value
 *   msgpack can encode (rsm encodes it). For identical snapshots on every replica, return
 *   arrays sorted by key rather than Maps or objects filled in arrival order. msgpack turns a
 *   Map into a plain object and drops `undefined` object fields.
 * - `restore(snapshot)` replaces the whole state with one `snapshot()` returned (after a
 *   msgpack round trip). It is called for the snapshot saved before a restart (before any op)
 *   and for one installed from the leader.
 */
export interface StateMachine<Op, Result, Snapshot = Uint8Array> {
  apply(op: Op, context: ApplyContext): Result;
  snapshot(): Snapshot;
  restore(snapshot: Snapshot): void;
  /**
   * The duplicate table that guards `op`, for a machine that keeps its own (shardkv: one per
   * shard, moved with the shard). Its tables are then the machine's state, saved by its own
   * `snapshot()`. Without it, rsm keeps one `ClientSessions` for every op and saves it in its
   * snapshot next to the machine's.
   */
  sessionsFor?(op: Op): Sessions<Result>;
}

/** Any state machine; what `ReplicatedStateMachine` is generic over. */
export type AnyStateMachine = StateMachine<never, unknown, unknown>;

/** The op type of a state machine. */
export type OpOf<M> = M extends { apply(op: infer Op, context: ApplyContext): unknown }
  ? Op
  : never;

/** The result type of a state machine's `apply`. */
export type ResultOf<M> = M extends { apply(op: never, context: ApplyContext): infer Result }
  ? Result
  : never;

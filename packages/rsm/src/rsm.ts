import {
  type ApplyMsg,
  NodeKilledError,
  RaftNode,
  NotLeaderError as RaftNotLeaderError,
  type RaftService,
} from '@flotilla/raft';
import { Applier } from './applier.js';
import { commandEntry, readEntry, unencodable } from './entry.js';
import { NotLeaderError, ReadTimeoutError, RsmClosedError, SubmitTimeoutError } from './errors.js';
import { type ReplicatedStateMachineOptions, type RsmSettings, rsmSettings } from './options.js';
import { Proposals } from './proposals.js';
import { ReadWaits } from './read-waits.js';
import { isSession, type Session } from './sessions.js';
import { Snapshotter } from './snapshotter.js';
import type { AnyStateMachine, OpOf, ResultOf, StateMachine } from './state-machine.js';
import { Waiter } from './waiter.js';

/**
 * A state machine replicated by Raft: `submit` proposes an op and resolves with its result
 * once it is applied; `read` answers a query linearizably. Ops with a session apply at most
 * once, however often they are retried, across leader changes and restarts.
 *
 * Lifecycle (docs/DESIGN.md): `create` starts the Raft node it makes; `close()` stops it,
 * rejects every waiter with `RsmClosedError`, and closes nothing it was given (the persister,
 * the peer ends) unless `onClose` says so.
 */
export class ReplicatedStateMachine<M extends AnyStateMachine> {
  /** The state machine, as applied on this replica. Reading it directly is not linearizable: use `read`. */
  readonly machine: M;
  readonly #options: ReplicatedStateMachineOptions<M>;
  readonly #settings: RsmSettings;
  readonly #applier: Applier;
  readonly #proposals = new Proposals();
  readonly #reads = new ReadWaits();
  readonly #snapshotter: Snapshotter;
  /** Every submit and read not settled yet: what `close()` rejects. */
  readonly #open = new Set<Waiter<unknown>>();
  /** Set once `create` has made the node; the restart snapshot is applied before that. */
  #raft: RaftNode | undefined;
  /** Why this rsm refuses work: set by `close()` or when the node stopped on its own. */
  #closedError: RsmClosedError | undefined;
  #closing: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  private constructor(options: ReplicatedStateMachineOptions<M>, settings: RsmSettings) {
    this.machine = options.machine;
    this.#options = options;
    this.#settings = settings;
    this.#applier = new Applier(
      options.machine as unknown as StateMachine<unknown, unknown, unknown>,
    );
    this.#snapshotter = new Snapshotter(
      settings.maxraftstate,
      options.persister,
      this.#applier,
      (err) => this.#fail(err),
    );
  }

  /**
   * Checks the options (`RsmConfigError`; Raft's own with `RaftConfigError`), creates the Raft
   * node and resolves once it runs. A persisted snapshot is restored into the machine from
   * the node's first apply message. Rejects, leaving nothing running, if the node cannot start.
   */
  static async create<M extends AnyStateMachine>(
    options: ReplicatedStateMachineOptions<M>,
  ): Promise<ReplicatedStateMachine<M>> {
    const settings = rsmSettings(options);
    const rsm = new ReplicatedStateMachine(options, settings);
    const { machine, maxraftstate, submitTimeoutMs, readTimeoutMs, reads, onClose, ...raft } =
      options;
    const node = await RaftNode.create({
      ...raft,
      noopOnElection: true,
      onApply: (msg) => rsm.#onApply(msg),
      onFatal: (err) => rsm.#fail(err),
    });
    rsm.#raft = node;
    rsm.#snapshotter.attach(node);
    rsm.#unsubscribe = node.onStateChange((state) =>
      rsm.#proposals.leadershipChanged(state.term, state.role === 'leader'),
    );
    // The restart snapshot is applied before `create` resumes; if restoring it failed, the
    // node has stopped and this replica cannot start.
    const failed = rsm.#closedError;
    if (failed !== undefined) {
      await node.close();
      throw failed;
    }
    return rsm;
  }

  /** The Raft node: `getState()`, `role`, `leaderId`, `onStateChange`, … Close rsm, not it. */
  get raft(): RaftNode {
    return this.#raft as RaftNode;
  }

  /** Raft's RPC handlers, to register as service `Raft` next to the server's own. */
  get service(): RaftService {
    return this.raft.service;
  }

  get me(): number {
    return this.#options.me;
  }

  /** The lab's `GetState()`. */
  getState(): { term: number; isLeader: boolean } {
    return this.raft.getState();
  }

  /** The index of the last log entry (or snapshot) applied to the machine on this replica. */
  get lastApplied(): number {
    return this.#applier.lastApplied;
  }

  /** Snapshots this replica has handed to Raft since it started. */
  get snapshotsTaken(): number {
    return this.#snapshotter.taken;
  }

  /** True once `close()` or `kill()` was called, or the node stopped on its own. */
  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  /**
   * Proposes `op` and resolves with the machine's result once it is applied at the index it
   * was proposed at, in the same term. With a `session`, an op already applied for it
   * resolves with the result it had, without applying again. Rejects with:
   * `NotLeaderError` (never proposed; `leaderHint`), `LeadershipLostError` or
   * `SubmitTimeoutError` (proposed, outcome unknown), `StaleRequestError` (an older op of the
   * session's client), `RsmClosedError`; with a `TypeError`, proposing nothing, for a
   * malformed session or an op msgpack cannot encode.
   */
  submit(op: OpOf<M>, session?: Session): Promise<ResultOf<M>> {
    if (this.#closedError !== undefined) return Promise.reject(this.#closedError);
    if (session !== undefined && !isSession(session)) {
      return Promise.reject(
        new TypeError('a session is { clientId: safe integer | string, seq: integer ≥ 1 }'),
      );
    }
    const entry = commandEntry(op, session);
    const why = unencodable(entry);
    if (why !== undefined) return Promise.reject(new TypeError(`op cannot be encoded: ${why}`));
    const { index, term, isLeader } = this.raft.start(entry);
    if (!isLeader) return Promise.reject(new NotLeaderError(this.raft.leaderId));
    const { submitTimeoutMs } = this.#settings;
    const waiter = new Waiter<ResultOf<M>>(
      this.#options.clock,
      this.#open,
      submitTimeoutMs,
      () => new SubmitTimeoutError(index, term, submitTimeoutMs),
    );
    this.#proposals.add(index, {
      term,
      applied: (outcome) => {
        if (outcome.ok) waiter.resolve(outcome.result as ResultOf<M>);
        else waiter.reject(outcome.error);
      },
      lost: (err) => waiter.reject(err),
    });
    return waiter.promise;
  }

  /**
   * Runs `query` against the machine in a linearizable state (it sees every op whose submit
   * resolved before `read` was called) and resolves with what it returns. `query` must not
   * change the machine. On the leader only: through `raft.readIndex()` and a wait until this
   * replica has applied that far (no log write), or, with `reads: 'log'`, when a marker entry
   * is applied. Rejects with `NotLeaderError`, `LeadershipLostError` (`'log'` reads),
   * `ReadTimeoutError`, `RsmClosedError` or what `query` threw; a read changes nothing, so
   * every rejection means nothing happened.
   */
  read<T>(query: (machine: M) => T): Promise<T> {
    if (this.#closedError !== undefined) return Promise.reject(this.#closedError);
    const raft = this.raft;
    const { readTimeoutMs, reads } = this.#settings;
    const start = reads === 'log' ? raft.start(readEntry()) : undefined;
    if (start !== undefined && !start.isLeader) {
      return Promise.reject(new NotLeaderError(raft.leaderId));
    }
    const waiter = new Waiter<T>(
      this.#options.clock,
      this.#open,
      readTimeoutMs,
      () => new ReadTimeoutError(readTimeoutMs),
    );
    // Runs synchronously at a state at or after the read index; a throwing query rejects its
    // read only (inside the apply stream, a throw would stop the node).
    const run = (): void => {
      if (waiter.settled) return;
      try {
        waiter.resolve(query(this.machine));
      } catch (err) {
        waiter.reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    if (start !== undefined) {
      this.#proposals.add(start.index, {
        term: start.term,
        applied: run,
        lost: (err) => waiter.reject(err),
      });
    } else {
      raft.readIndex().then(
        (index) => {
          if (!waiter.settled) this.#reads.add(index, this.#applier.lastApplied, run);
        },
        (err: unknown) => waiter.reject(this.#readFailure(err)),
      );
    }
    return waiter.promise;
  }

  /**
   * Stops: at once rejects every submit and read in flight, and every later one, with
   * `RsmClosedError` (a submit cut short may or may not be applied); then closes the Raft
   * node, runs `onClose`, and resolves. Idempotent: every call returns the first call's
   * promise. The persister stays open (unless `onClose` closes it). Rejects only with what
   * `onClose` threw or rejected with.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#stop(this.#closedError ?? new RsmClosedError());
      const raft = this.#raft;
      const onClose = this.#options.onClose;
      this.#closing = (async () => {
        await raft?.close();
        await onClose?.();
      })();
    }
    return this.#closing;
  }

  /** The lab's `Kill()`: `close()` without waiting for it. */
  kill(): void {
    // close() rejects only if onClose does; with no caller to tell, the logger hears of it.
    this.close().catch((err: unknown) => {
      this.#options.logger?.warn({ err }, 'rsm: onClose failed');
    });
  }

  #onApply(msg: ApplyMsg): void {
    // A throw here (the machine's apply or restore) stops the node: see `#fail`.
    const applied = this.#applier.apply(msg);
    switch (applied.kind) {
      case 'entry':
        this.#proposals.applied(applied.index, applied.term, applied.outcome);
        break;
      case 'skipped':
        this.#proposals.applied(applied.index, applied.term, undefined);
        break;
      case 'restored':
        this.#proposals.restored(applied.index);
        break;
      default: {
        const unreachable: never = applied;
        throw new TypeError(`unknown apply outcome ${String(unreachable)}`);
      }
    }
    this.#reads.release(this.#applier.lastApplied);
    this.#snapshotter.afterApply(applied.kind === 'restored' ? applied.index : undefined);
  }

  /** The node stopped on its own (or the machine's snapshot threw): refuse everything from now on. */
  #fail(cause: unknown): void {
    if (this.#closedError !== undefined) return;
    this.#stop(new RsmClosedError(cause));
    // Before `create` has resolved (the restart snapshot failed), its rejection says it all.
    if (this.#raft === undefined) return;
    this.#raft.kill();
    this.#options.onFatal?.(cause);
  }

  #stop(err: RsmClosedError): void {
    this.#closedError = err;
    this.#unsubscribe?.();
    this.#snapshotter.stop();
    this.#proposals.clear();
    this.#reads.clear();
    for (const waiter of [...this.#open]) waiter.reject(err);
  }

  #readFailure(err: unknown): Error {
    if (err instanceof RaftNotLeaderError) return new NotLeaderError(err.leaderHint);
    if (err instanceof NodeKilledError) return this.#closedError ?? new RsmClosedError(err);
    return err instanceof Error ? err : new Error(String(err));
  }
}

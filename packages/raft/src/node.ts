import { ApplyDelivery } from './apply-delivery.js';
import type { RaftMethod, RaftReplies } from './core/messages.js';
import { RaftCore, type Role } from './core/raft.js';
import type { ApplyMsg, OutgoingRequest, Ready } from './core/ready.js';
import { isArgs, isReply } from './core/validate.js';
import type { RaftClientEnd, RaftClock, RaftLogger, RaftRandom } from './env.js';
import { BadMessageError, NodeKilledError } from './errors.js';
import { nodeConfig } from './node-config.js';
import { NodeFailures } from './node-failures.js';
import { settleRead, type Waiter } from './node-reads.js';
import type { PersistedState, Persister } from './persister/persister.js';
import { RefusedSends, rejection, sendOutcome } from './refused-sends.js';
import { type RaftNodeState, StateChanges } from './state-changes.js';

export type { RaftNodeState } from './state-changes.js';

export interface RaftNodeOptions {
  /** This server's index in `peers`. */
  readonly me: number;
  /** One end per server, indexed by server id; `peers[me]` is never called and may be null. */
  readonly peers: readonly (RaftClientEnd | null)[];
  readonly persister: Persister;
  readonly clock: RaftClock;
  readonly random: RaftRandom;
  /**
   * Called for each applied message, in log order, exactly once per incarnation; the first is
   * the persisted snapshot, if there is one. Same as `node.onApply` right after `create`.
   */
  readonly onApply?: (msg: ApplyMsg) => void;
  /** Length of one tick (default 50 ms). */
  readonly tickMs?: number;
  /** Election timeout is [electionTicks, 2 × electionTicks) ticks (default 10: 500–1,000 ms). */
  readonly electionTicks?: number;
  /** Heartbeat interval in ticks (default 2: 100 ms, i.e. 10 per second per peer). */
  readonly heartbeatTicks?: number;
  /** Most entries in one AppendEntries (default 512). */
  readonly maxEntriesPerAppend?: number;
  /**
   * Most bytes of entries in one AppendEntries (default 4 MiB; estimated from the commands, one
   * entry always goes): keep it well under the transport's frame limit.
   */
  readonly maxAppendBytes?: number;
  /** AppendEntries in flight per follower while streaming (default 16). */
  readonly maxInflightAppends?: number;
  /** Leader steps down when it has not heard from a majority for an election timeout (default true). */
  readonly checkQuorum?: boolean;
  /** Pre-vote before raising the term, so a rejoining server cannot depose a live leader (default true). */
  readonly preVote?: boolean;
  /**
   * A new leader appends a no-op entry of its term, applied as `{ type: 'noop' }` (default
   * true): what its predecessors left uncommitted commits without a new proposal, and reads
   * are served as soon as it commits.
   */
  readonly noopOnElection?: boolean;
  /**
   * Largest InstallSnapshot chunk in bytes (default 1 MiB): snapshots travel in chunks, so keep
   * it well under the transport's frame limit.
   */
  readonly snapshotChunkBytes?: number;
  readonly logger?: RaftLogger;
  /**
   * Called once if the node stops on its own; it is killed by then: restart it from disk. The
   * cause is what the persister's save threw or rejected with (a failed write or fsync cannot
   * be retried safely), an `ApplyListenerError` (an apply listener threw) or the core's
   * `InvariantViolationError`. Not called for a save that fails after `close()` (that is
   * logged): nothing stopped on its own then. See node-failures.ts.
   */
  readonly onFatal?: (err: unknown) => void;
}

/** A type (not an interface) so it fits index-signature service maps such as transport's `ServiceMethods`. */
export type RaftService = {
  readonly RequestVote: (args: unknown) => Promise<RaftReplies['RequestVote']>;
  readonly AppendEntries: (args: unknown) => Promise<RaftReplies['AppendEntries']>;
  readonly InstallSnapshot: (args: unknown) => Promise<RaftReplies['InstallSnapshot']>;
};

/**
 * A Raft server: the pure `RaftCore` plus the driver around it — a tick timer on the injected
 * clock, RPCs through the injected peer ends, and the persister. Each Ready batch is persisted
 * before any of its messages leave or any of its entries are applied.
 *
 * Lifecycle (docs/DESIGN.md): `create` starts it; `close()` stops it. The node owns its tick
 * timer and its Ready loop, nothing else: the persister and the peer ends were given to it, so
 * closing it closes neither.
 */
export class RaftNode {
  readonly me: number;
  /** RPC handlers; expose them as service `Raft` (e.g. `rpcServer.addService('Raft', node.service)`). */
  readonly service: RaftService;
  readonly #core: RaftCore;
  readonly #options: RaftNodeOptions;
  readonly #applies: ApplyDelivery;
  readonly #states: StateChanges;
  readonly #failures: NodeFailures;
  /** Refused peer calls, each logged once (see refused-sends.ts). */
  readonly #refused: RefusedSends;
  readonly #pendingReplies = new Map<number, Waiter<RaftReplies[RaftMethod]>>();
  readonly #pendingReads = new Map<number, Waiter<number>>();
  #nextId = 1;
  #tickTimer: unknown;
  #killed = false;
  /** The promise every `close()` returns, set by the first. */
  #closing: Promise<void> | undefined;
  #scheduled = false;
  #running = false;
  /** The latest Ready loop; `close()` waits for it, since it may be waiting on a persist. */
  #loop: Promise<void> = Promise.resolve();

  private constructor(
    options: RaftNodeOptions,
    config: ReturnType<typeof nodeConfig>,
    state: PersistedState | undefined,
  ) {
    const { tickMs } = config;
    this.me = options.me;
    this.#options = options;
    this.#core = new RaftCore(config.core, state);
    this.#failures = new NodeFailures(this, options.logger, options.onFatal);
    this.#refused = new RefusedSends(options.me, options.logger);
    this.#applies = new ApplyDelivery((err) => this.#failures.applyListenerFailed(err));
    // The service restores from the apply stream alone, never from the persister.
    const snapshot = state?.snapshot;
    if (snapshot !== undefined && snapshot.index > 0) {
      const { index, term, data } = snapshot;
      this.#applies.deliver([{ type: 'snapshot', index, term, snapshot: data }]);
    }
    if (options.onApply) this.#applies.subscribe(options.onApply);
    this.#states = new StateChanges(this.#state(), (err) =>
      this.#failures.stateListenerFailed(err),
    );
    this.service = {
      RequestVote: (args) => this.#handle('RequestVote', args),
      AppendEntries: (args) => this.#handle('AppendEntries', args),
      InstallSnapshot: (args) => this.#handle('InstallSnapshot', args),
    };
    const tick = (): void => {
      if (this.#killed) return;
      this.#core.tick();
      this.#kick();
      this.#tickTimer = options.clock.setTimeout(tick, tickMs);
    };
    this.#tickTimer = options.clock.setTimeout(tick, tickMs);
  }

  /** Checks every option (RaftConfigError), loads the persister's state and starts the node. */
  static async create(options: RaftNodeOptions): Promise<RaftNode> {
    // Every option is checked before the persister is touched (RaftConfigError names it).
    const config = nodeConfig(options);
    return new RaftNode(options, config, await options.persister.load());
  }

  /**
   * Proposes a command. Returns at once: the index and term it will have if it commits, and
   * whether this node is the leader (if not, nothing was proposed).
   */
  start(command: unknown): { index: number; term: number; isLeader: boolean } {
    if (this.#killed) return { index: -1, term: this.#core.term, isLeader: false };
    const result = this.#core.propose(command);
    if (result.isLeader) this.#kick();
    return result;
  }

  getState(): { term: number; isLeader: boolean } {
    return { term: this.#core.term, isLeader: this.#core.isLeader };
  }

  get role(): Role {
    return this.#core.role;
  }

  /** The leader this node knows of, or null. */
  get leaderId(): number | null {
    return this.#core.leaderId;
  }

  get commitIndex(): number {
    return this.#core.commitIndex;
  }

  /** The service's snapshot of its state through `index` (already applied); the log before it is dropped. */
  snapshot(index: number, data: Uint8Array): void {
    if (this.#killed) return;
    if (this.#core.compact(index, data)) this.#kick();
  }

  /**
   * Confirms leadership with a round of heartbeats and resolves with the commit index at the
   * time of the call: once the service has applied up to it, a read of its state is
   * linearizable. Rejects with NotLeaderError or LeaderNotReadyError.
   */
  readIndex(): Promise<number> {
    if (this.#killed) return Promise.reject(new NodeKilledError());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pendingReads.set(id, { resolve, reject });
      this.#core.requestRead(id);
      this.#kick();
    });
  }

  /**
   * Subscribes to applied messages; returns the unsubscribe function. Messages applied before
   * the first subscription (the restart snapshot above all) wait for it: see apply-delivery.ts.
   * A listener that throws stops the node (`onFatal` gets an `ApplyListenerError`).
   */
  onApply(listener: (msg: ApplyMsg) => void): () => void {
    return this.#applies.subscribe(listener);
  }

  /**
   * Subscribes to changes of term, role or known leader; returns the unsubscribe function. A
   * listener that throws is logged (`StateListenerError`); the node keeps running.
   */
  onStateChange(listener: (state: RaftNodeState) => void): () => void {
    return this.#states.subscribe(listener);
  }

  /**
   * Stops the node, at once: no more ticks, messages or applies; `start` proposes nothing,
   * `readIndex` and RPCs to it reject with `NodeKilledError`, and so do the reads and RPCs in
   * flight. Resolves once the tick timer is cleared and a persist in flight has settled, so
   * the persister can be closed (or copied, as the lab does) right after. Idempotent: every
   * call returns the first call's promise. It does not close the persister.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#stop();
      // The loop does not reject, and close() must not, whatever happens.
      this.#closing = this.#loop.then(
        () => {},
        () => {},
      );
    }
    return this.#closing;
  }

  /** The lab's `Kill()`: `close()` without waiting for it. */
  kill(): void {
    void this.close();
  }

  /** Whether `close()` (or `kill()`) was called, or the node stopped on its own (see `onFatal`). */
  get killed(): boolean {
    return this.#killed;
  }

  #stop(): void {
    this.#killed = true;
    this.#options.clock.clearTimeout(this.#tickTimer);
    const err = new NodeKilledError();
    for (const waiter of this.#pendingReplies.values()) waiter.reject(err);
    for (const waiter of this.#pendingReads.values()) waiter.reject(err);
    this.#pendingReplies.clear();
    this.#pendingReads.clear();
    this.#applies.stop();
    this.#states.clear();
  }

  #handle<M extends RaftMethod>(method: M, args: unknown): Promise<RaftReplies[M]> {
    if (this.#killed) return Promise.reject(new NodeKilledError());
    const guard = isArgs[method] as (value: unknown) => boolean;
    if (!guard(args) || !this.#isPeerId(args)) return Promise.reject(new BadMessageError(method));
    const requestId = this.#nextId++;
    return new Promise<RaftReplies[M]>((resolve, reject) => {
      this.#pendingReplies.set(requestId, {
        resolve: resolve as (r: RaftReplies[RaftMethod]) => void,
        reject,
      });
      this.#core.stepRequest(method, args as never, requestId);
      this.#kick();
    });
  }

  #isPeerId(args: unknown): boolean {
    const { candidateId, leaderId } = args as { candidateId?: number; leaderId?: number };
    const id = candidateId ?? leaderId ?? 0;
    return id < this.#options.peers.length && id !== this.me;
  }

  #kick(): void {
    if (this.#scheduled || this.#killed) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (!this.#running) this.#loop = this.#process();
    });
  }

  /**
   * The Ready loop: send what the core says may leave before the persist
   * (`requestsBeforePersist`: a leader's AppendEntries and InstallSnapshot, so its fsync and
   * its followers' overlap; core/ready.ts `splitRequests` says why that is safe), persist,
   * then send and reply the rest, then apply, then advance.
   *
   * Only `#kick` starts it, and only while no loop runs: `#running` is set before the first
   * await, so there is never more than one loop.
   */
  async #process(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#killed && this.#core.hasReady()) {
        const ready = this.#core.ready();
        for (const request of ready.requestsBeforePersist) this.#send(request);
        if (ready.persist !== undefined) {
          const saving = this.#options.persister.save(ready.persist);
          if (saving !== undefined) await saving;
          if (this.#killed) return;
        }
        if (!this.#deliver(ready)) return;
        this.#core.advance(ready);
        this.#emitStateChange();
      }
      this.#emitStateChange();
    } catch (err) {
      // The save's failure, or the InvariantViolationError that stopped the core (ready()
      // throws it): listeners' exceptions are caught where they are called.
      this.#failures.loopFailed(err);
    } finally {
      this.#running = false;
    }
  }

  /** Carries out a persisted Ready; false if the node stopped meanwhile (an apply listener threw). */
  #deliver(ready: Ready): boolean {
    for (const { requestId, reply } of ready.replies) {
      this.#pendingReplies.get(requestId)?.resolve(reply);
      this.#pendingReplies.delete(requestId);
    }
    for (const request of ready.requests) this.#send(request);
    if (!this.#applies.deliver(ready.apply) || this.#killed) return false;
    for (const read of ready.reads) {
      const waiter = this.#pendingReads.get(read.id);
      this.#pendingReads.delete(read.id);
      if (waiter !== undefined) settleRead(waiter, read, this.#core.leaderId);
    }
    return true;
  }

  #state(): RaftNodeState {
    return { term: this.#core.term, role: this.#core.role, leaderId: this.#core.leaderId };
  }

  #emitStateChange(): void {
    this.#states.emit(this.#state());
  }

  #send(request: OutgoingRequest): void {
    const end = this.#options.peers[request.to];
    if (end == null) {
      this.#core.stepFailure(request);
      return;
    }
    end.call(`Raft.${request.method}`, request.args).then(
      (result) => {
        if (this.#killed) return;
        const guard = isReply[request.method] as (value: unknown) => boolean;
        const outcome = sendOutcome(result, result.ok && guard(result.reply));
        if (outcome.kind === 'answered') {
          this.#refused.answered(request.to, request.method);
          this.#core.stepResponse(request, result.reply as never);
        } else {
          if (outcome.kind === 'refused')
            this.#refused.refused(request.to, request.method, outcome);
          this.#core.stepFailure(request);
        }
        this.#kick();
      },
      (err: unknown) => {
        if (this.#killed) return;
        this.#refused.refused(request.to, request.method, rejection(err));
        this.#core.stepFailure(request);
        this.#kick();
      },
    );
  }
}

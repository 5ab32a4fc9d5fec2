import type { RaftMethod, RaftReplies } from './core/messages.js';
import { RaftCore, type Role } from './core/raft.js';
import type { ApplyMsg, OutgoingRequest, Ready } from './core/ready.js';
import { isArgs, isReply } from './core/validate.js';
import type { RaftClientEnd, RaftClock, RaftLogger, RaftRandom } from './env.js';
import {
  BadMessageError,
  LeaderNotReadyError,
  NodeKilledError,
  NotLeaderError,
  RaftConfigError,
} from './errors.js';
import type { PersistedState, Persister } from './persister/persister.js';

export interface RaftNodeOptions {
  /** This server's index in `peers`. */
  readonly me: number;
  /** One end per server, indexed by server id; `peers[me]` is never called and may be null. */
  readonly peers: readonly (RaftClientEnd | null)[];
  readonly persister: Persister;
  readonly clock: RaftClock;
  readonly random: RaftRandom;
  /** Called for each applied message, in log order, exactly once per incarnation. */
  readonly onApply?: (msg: ApplyMsg) => void;
  /** Length of one tick (default 50 ms). */
  readonly tickMs?: number;
  /** Election timeout is [electionTicks, 2 × electionTicks) ticks (default 10: 500–1,000 ms). */
  readonly electionTicks?: number;
  /** Heartbeat interval in ticks (default 2: 100 ms, i.e. 10 per second per peer). */
  readonly heartbeatTicks?: number;
  /** Most entries in one AppendEntries (default 512). */
  readonly maxEntriesPerAppend?: number;
  /** AppendEntries in flight per follower while streaming (default 16). */
  readonly maxInflightAppends?: number;
  /** Leader steps down when it has not heard from a majority for an election timeout (default true). */
  readonly checkQuorum?: boolean;
  /** Pre-vote before raising the term, so a rejoining server cannot depose a live leader (default true). */
  readonly preVote?: boolean;
  readonly logger?: RaftLogger;
  /**
   * Called once if the node stops on its own because persisting failed (a failed write or
   * fsync cannot be retried safely). The node is killed by then; restart it from disk.
   */
  readonly onFatal?: (err: unknown) => void;
}

/** What a node knows of its place in the cluster; see `RaftNode.onStateChange`. */
export interface RaftNodeState {
  readonly term: number;
  readonly role: Role;
  readonly leaderId: number | null;
}

/** A type (not an interface) so it fits index-signature service maps such as transport's `ServiceMethods`. */
export type RaftService = {
  readonly RequestVote: (args: unknown) => Promise<RaftReplies['RequestVote']>;
  readonly AppendEntries: (args: unknown) => Promise<RaftReplies['AppendEntries']>;
  readonly InstallSnapshot: (args: unknown) => Promise<RaftReplies['InstallSnapshot']>;
};

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

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
  readonly #listeners = new Set<(msg: ApplyMsg) => void>();
  readonly #stateListeners = new Set<(state: RaftNodeState) => void>();
  #lastState: RaftNodeState;
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

  private constructor(options: RaftNodeOptions, state: PersistedState | undefined) {
    const n = options.peers.length;
    if (!(Number.isInteger(options.me) && options.me >= 0 && options.me < n)) {
      throw new RaftConfigError(`me (${options.me}) must index peers (length ${n})`);
    }
    const tickMs = options.tickMs ?? 50;
    if (!(tickMs > 0)) throw new RaftConfigError('tickMs must be positive');
    this.me = options.me;
    this.#options = options;
    this.#core = new RaftCore(
      {
        me: options.me,
        peerCount: n,
        electionTicks: options.electionTicks ?? 10,
        heartbeatTicks: options.heartbeatTicks ?? 2,
        maxEntriesPerAppend: options.maxEntriesPerAppend ?? 512,
        maxInflightAppends: options.maxInflightAppends ?? 16,
        checkQuorum: options.checkQuorum ?? true,
        preVote: options.preVote ?? true,
        random: options.random,
      },
      state,
    );
    if (options.onApply) this.#listeners.add(options.onApply);
    this.#lastState = this.#state();
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

  /** Loads the persister's state and starts the node. */
  static async create(options: RaftNodeOptions): Promise<RaftNode> {
    return new RaftNode(options, await options.persister.load());
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

  /** Subscribes to applied messages; returns the unsubscribe function. */
  onApply(listener: (msg: ApplyMsg) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Subscribes to changes of term, role or known leader; returns the unsubscribe function. */
  onStateChange(listener: (state: RaftNodeState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
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
      // The loop never rejects unless onFatal throws; close() must not.
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

  /** Whether `close()` (or `kill()`) was called, or the node stopped because persisting failed. */
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
    this.#listeners.clear();
    this.#stateListeners.clear();
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
   * The Ready loop: persist, then send and reply, then apply, then advance.
   *
   * One exception to "persist first": a leader's AppendEntries and InstallSnapshot leave before
   * its own write, so the leader's fsync and its followers' overlap (thesis §10.2.1). That is
   * safe because the core counts the leader's own log toward commitment only once persisted,
   * and nothing such a request carries depends on unpersisted term or vote (a term change in
   * the same Ready keeps everything waiting).
   *
   * Only `#kick` starts it, and only while no loop runs: `#running` is set before the first
   * await, so there is never more than one loop.
   */
  async #process(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#killed && this.#core.hasReady()) {
        const ready = this.#core.ready();
        const appendsFirst = ready.persist !== undefined && ready.persist.hardState === undefined;
        if (appendsFirst) {
          for (const request of ready.requests)
            if (request.method !== 'RequestVote') this.#send(request);
        }
        if (ready.persist !== undefined) {
          const saving = this.#options.persister.save(ready.persist);
          if (saving !== undefined) await saving;
          if (this.#killed) return;
        }
        this.#deliver(ready, appendsFirst);
        this.#core.advance(ready);
        this.#emitStateChange();
      }
      this.#emitStateChange();
    } catch (err) {
      this.#options.logger?.warn(
        { me: this.me, error: String(err) },
        'raft: persist failed; stopping node',
      );
      this.kill();
      this.#options.onFatal?.(err);
    } finally {
      this.#running = false;
    }
  }

  #deliver(ready: Ready, appendsSent: boolean): void {
    for (const { requestId, reply } of ready.replies) {
      this.#pendingReplies.get(requestId)?.resolve(reply);
      this.#pendingReplies.delete(requestId);
    }
    for (const request of ready.requests) {
      if (!appendsSent || request.method === 'RequestVote') this.#send(request);
    }
    for (const msg of ready.apply) {
      for (const listener of this.#listeners) {
        if (this.#killed) return;
        try {
          listener(msg);
        } catch (err) {
          this.#options.logger?.warn(
            { me: this.me, index: msg.index, error: String(err) },
            'raft: apply listener threw',
          );
        }
      }
    }
    for (const read of ready.reads) {
      const waiter = this.#pendingReads.get(read.id);
      this.#pendingReads.delete(read.id);
      if (waiter === undefined) continue;
      if (read.ok) {
        waiter.resolve(read.index);
        continue;
      }
      switch (read.reason) {
        case 'not-ready':
          waiter.reject(new LeaderNotReadyError());
          break;
        case 'not-leader':
          waiter.reject(new NotLeaderError(this.#core.leaderId));
          break;
        default: {
          const unreachable: never = read.reason;
          throw new TypeError(`unknown read outcome ${String(unreachable)}`);
        }
      }
    }
  }

  #state(): RaftNodeState {
    return { term: this.#core.term, role: this.#core.role, leaderId: this.#core.leaderId };
  }

  #emitStateChange(): void {
    const state = this.#state();
    const last = this.#lastState;
    if (state.term === last.term && state.role === last.role && state.leaderId === last.leaderId) {
      return;
    }
    this.#lastState = state;
    for (const listener of this.#stateListeners) listener(state);
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
        if (result.ok && guard(result.reply))
          this.#core.stepResponse(request, result.reply as never);
        else this.#core.stepFailure(request);
        this.#kick();
      },
      () => {
        if (this.#killed) return;
        this.#core.stepFailure(request);
        this.#kick();
      },
    );
  }
}

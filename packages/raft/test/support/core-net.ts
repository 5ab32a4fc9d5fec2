/**
 * `CoreNet`: a deterministic in-memory network wiring N pure cores together the way node.ts
 * drives one core (ready() → send requestsBeforePersist → persist → send requests / replies →
 * apply → advance(ready)), with
 * links to cut, RPCs to deliver, drop or time out one by one, crashes and restarts from each
 * core's `MemoryPersister`. After every Ready it persists, it runs the checks of
 * core-net-checks.ts, so a safety or durability breach throws `CoreNetViolation` at the step
 * that caused it.
 */
import type { RaftMethod, RaftReplies } from '../../src/core/messages.js';
import { RaftCore, type RaftCoreConfig } from '../../src/core/raft.js';
import type { ApplyMsg, OutgoingRequest, ReadOutcome, Ready } from '../../src/core/ready.js';
import type { RaftRandom } from '../../src/env.js';
import { MemoryPersister } from '../../src/persister/memory-persister.js';
import { type CoreOptions, coreConfig, ELECTION_TICKS, zeroRandom } from './core-config.js';
import { decodeSnapshot, encodeSnapshot } from './core-fixtures.js';
import { Links } from './core-links.js';
import {
  CoreNetViolation,
  checkAppliedPrefixes,
  checkCommitted,
  checkDurable,
  checkLeader,
  checkLogMatching,
  checkSentBeforePersist,
  type DurableView,
  durableView,
} from './core-net-checks.js';

type AnyReply = RaftReplies[RaftMethod];

/** One RPC on the wire: first its request travels, then (once answered) its reply. */
export interface Rpc {
  readonly from: number;
  readonly fromIncarnation: number;
  readonly to: number;
  readonly request: OutgoingRequest;
  reply: AnyReply | undefined;
  phase: 'request' | 'processing' | 'reply';
  /** The sender already saw it fail (timed out): it may still arrive, its reply is dropped. */
  timedOut?: boolean;
}

export interface CoreNetOptions {
  readonly n: number;
  readonly core?: CoreOptions;
  /** The random of core i (default: random.int always 0). */
  readonly random?: (i: number) => RaftRandom;
  /** The service compacts whenever it has applied this many entries past the snapshot. */
  readonly snapshotEvery?: number;
  /** Verify durable state after each persist (default true). */
  readonly checkDurability?: boolean;
  /**
   * Do not run a node's Ready loop after each message or tick it takes, only on `process` /
   * `processAll` / `deliverAll`: several messages then land in one Ready, as they do in
   * node.ts while an asynchronous persister is saving the previous Ready.
   */
  readonly batching?: boolean;
}

export class CoreNet extends Links {
  readonly options: CoreNetOptions;
  readonly cores: RaftCore[] = [];
  readonly persisters: MemoryPersister[] = [];
  readonly up: boolean[] = [];
  readonly incarnation: number[] = [];
  /** Each node's service state: the commands it applied, in order (restored from snapshots). */
  readonly applied: unknown[][] = [];
  /** Every ApplyMsg each node handed out, across incarnations. */
  readonly applyLog: ApplyMsg[][] = [];
  readonly reads: ReadOutcome[][] = [];
  /** Every Ready each node produced, in order. */
  readonly readies: Ready[][] = [];
  /** RPCs on the wire (requests not yet delivered, replies not yet returned). */
  readonly queue: Rpc[] = [];
  /** term → the node that led it. */
  readonly leaders = new Map<number, number>();
  /** index → the command applied there (by anyone). */
  readonly committed = new Map<number, unknown>();
  /** How many RPCs were delivered (requests and replies). */
  delivered = 0;
  /** RPCs that `deliverAll` (and so `run`) leaves on the wire. */
  held: ((rpc: Rpc) => boolean) | undefined;

  readonly #processing = new Map<number, Rpc>();
  #nextRequestId = 1;

  constructor(options: CoreNetOptions) {
    super(options.n);
    this.options = options;
    for (let i = 0; i < this.n; i++) {
      this.persisters.push(new MemoryPersister());
      this.cores.push(new RaftCore(this.#config(i)));
      this.up.push(true);
      this.incarnation.push(0);
      this.applied.push([]);
      this.applyLog.push([]);
      this.reads.push([]);
      this.readies.push([]);
    }
  }

  #config(i: number): RaftCoreConfig {
    return coreConfig(i, this.n, {
      random: this.options.random?.(i) ?? zeroRandom,
      ...this.options.core,
    });
  }

  core(i: number): RaftCore {
    return this.cores[i] as RaftCore;
  }

  // ---- driving ----

  /** Ticks the given nodes (default every live node) once each, processing their Readies. */
  tick(nodes: readonly number[] = this.#all()): void {
    for (const i of nodes) {
      if (!this.up[i]) continue;
      this.core(i).tick();
      this.#kick(i);
    }
  }

  /** `rounds` × (tick every live node, then deliver until the wire is empty). */
  run(rounds: number, nodes?: readonly number[]): void {
    for (let r = 0; r < rounds; r++) {
      this.tick(nodes);
      this.deliverAll();
    }
  }

  /** Ticks and delivers until some node leads (and the wire is empty); returns it. */
  electLeader(maxRounds = 10 * ELECTION_TICKS): number {
    for (let r = 0; r < maxRounds; r++) {
      this.tick();
      this.deliverAll();
      const leader = this.leader();
      if (leader !== undefined) return leader;
    }
    throw new Error('no leader elected');
  }

  /** The live leader of the highest term, if any. */
  leader(): number | undefined {
    let best: number | undefined;
    for (let i = 0; i < this.n; i++) {
      const core = this.core(i);
      if (!this.up[i] || !core.isLeader) continue;
      if (best === undefined || core.term > this.core(best).term) best = i;
    }
    return best;
  }

  /** Proposes on node i and processes its Ready (the driver's kick). */
  propose(i: number, command: unknown): ReturnType<RaftCore['propose']> {
    const result = this.core(i).propose(command);
    this.#kick(i);
    return result;
  }

  requestRead(i: number, id: number): void {
    this.core(i).requestRead(id);
    this.#kick(i);
  }

  /** The service of node i snapshots everything it applied. */
  compact(i: number): boolean {
    const applied = this.applied[i] as unknown[];
    const done = this.core(i).compact(applied.length, encodeSnapshot(applied));
    this.process(i);
    return done;
  }

  /** Runs the driver loop of node i: every pending Ready, persisted, sent, applied, advanced. */
  process(i: number): void {
    const core = this.core(i);
    while (this.up[i] && core.hasReady()) this.handleReady(i, core.ready());
  }

  processAll(): void {
    for (let i = 0; i < this.n; i++) this.process(i);
  }

  /** What node.ts's `#kick` amounts to: run the Ready loop now, unless batching. */
  #kick(i: number): void {
    if (this.options.batching !== true) this.process(i);
  }

  /** Carries out one Ready of node i the way node.ts does. */
  handleReady(i: number, ready: Ready, options: { advance?: boolean } = {}): void {
    const core = this.core(i);
    (this.readies[i] as Ready[]).push(ready);
    const checking = this.options.checkDurability !== false;
    if (checking) checkSentBeforePersist(i, this.durable(i), ready);
    this.#sendRequests(i, ready.requestsBeforePersist);
    if (ready.persist !== undefined) (this.persisters[i] as MemoryPersister).save(ready.persist);
    if (checking) this.#checkDurable(i, ready);
    this.#sendRequests(i, ready.requests);
    for (const { requestId, reply } of ready.replies) {
      const rpc = this.#processing.get(requestId);
      if (rpc === undefined) continue;
      this.#processing.delete(requestId);
      rpc.reply = reply;
      rpc.phase = 'reply';
      this.queue.push(rpc);
    }
    for (const msg of ready.apply) this.#apply(i, msg);
    (this.reads[i] as ReadOutcome[]).push(...ready.reads);
    if (options.advance !== false) core.advance(ready);
    this.#checkLeader(i);
  }

  #sendRequests(i: number, requests: readonly OutgoingRequest[]): void {
    for (const request of requests) {
      this.queue.push({
        from: i,
        fromIncarnation: this.incarnation[i] as number,
        to: request.to,
        request,
        reply: undefined,
        phase: 'request',
      });
    }
  }

  /** Delivers (or, if the link is cut or a server is down, fails) one RPC from the wire. */
  deliverAt(k: number): void {
    const [rpc] = this.queue.splice(k, 1);
    if (rpc !== undefined) this.#deliver(rpc);
  }

  /** Delivers the first RPC on the wire matching `pred`; returns whether there was one. */
  deliverWhere(pred: (rpc: Rpc) => boolean): boolean {
    const k = this.queue.findIndex(pred);
    if (k < 0) return false;
    this.deliverAt(k);
    return true;
  }

  /** Loses RPC k: its sender sees it fail (an RPC settles exactly once). */
  dropAt(k: number): void {
    const [rpc] = this.queue.splice(k, 1);
    if (rpc !== undefined) this.#fail(rpc);
  }

  /**
   * RPC k times out at its sender (stepFailure) but stays on the wire: the request may still
   * be delivered and executed; its reply will be discarded.
   */
  timeoutAt(k: number): void {
    const rpc = this.queue[k];
    if (rpc === undefined || rpc.timedOut === true) return;
    this.#fail(rpc);
    rpc.timedOut = true;
  }

  /**
   * Delivers in FIFO order (processing every node in between) until the wire is empty, except
   * for the RPCs `held` matches: they stay on the wire (a slow transfer) until it stops holding
   * them.
   */
  deliverAll(limit = 200_000): void {
    let steps = 0;
    const next = (): number => {
      const held = this.held;
      return held === undefined
        ? this.queue.length > 0
          ? 0
          : -1
        : this.queue.findIndex((rpc) => !held(rpc));
    };
    this.processAll();
    while (next() >= 0) {
      for (let k = next(); k >= 0; k = next()) {
        if (++steps > limit) throw new Error(`wire not quiet after ${limit} deliveries`);
        this.deliverAt(k);
      }
      this.processAll();
    }
  }

  #deliver(rpc: Rpc): void {
    this.delivered++;
    if (rpc.phase === 'request') {
      if (rpc.timedOut === true) {
        // Executed by the target, nobody waits for the answer.
        if (this.up[rpc.to] && this.linked(rpc.from, rpc.to)) {
          this.core(rpc.to).stepRequest(
            rpc.request.method,
            rpc.request.args as never,
            this.#nextRequestId++,
          );
          this.#kick(rpc.to);
        }
        return;
      }
      if (!this.#senderAlive(rpc)) return;
      if (!this.up[rpc.to] || !this.linked(rpc.from, rpc.to)) {
        this.#fail(rpc);
        return;
      }
      const requestId = this.#nextRequestId++;
      rpc.phase = 'processing';
      this.#processing.set(requestId, rpc);
      this.core(rpc.to).stepRequest(rpc.request.method, rpc.request.args as never, requestId);
      this.#kick(rpc.to);
      return;
    }
    if (!this.#senderAlive(rpc) || rpc.timedOut === true) return;
    if (!this.linked(rpc.to, rpc.from)) {
      this.#fail(rpc);
      return;
    }
    this.core(rpc.from).stepResponse(rpc.request, rpc.reply as never);
    this.#kick(rpc.from);
  }

  #senderAlive(rpc: Rpc): boolean {
    return this.up[rpc.from] === true && this.incarnation[rpc.from] === rpc.fromIncarnation;
  }

  #fail(rpc: Rpc): void {
    if (!this.#senderAlive(rpc)) return;
    if (rpc.phase === 'reply' && rpc.timedOut === true) return;
    this.core(rpc.from).stepFailure(rpc.request);
    this.#kick(rpc.from);
  }

  // ---- crashes ----

  /** Stops node i: what it persisted survives, nothing else. RPCs it was serving fail. */
  crash(i: number): void {
    if (!this.up[i]) return;
    this.up[i] = false;
    this.incarnation[i] = (this.incarnation[i] as number) + 1;
    for (const [id, rpc] of this.#processing) {
      if (rpc.to !== i) continue;
      this.#processing.delete(id);
      this.#fail(rpc);
    }
  }

  /** Starts node i again from its persister (crashing it first if it is up). */
  restart(i: number): RaftCore {
    this.crash(i);
    const state = (this.persisters[i] as MemoryPersister).load();
    const core = new RaftCore(this.#config(i), state);
    this.cores[i] = core;
    this.up[i] = true;
    this.applied[i] = state?.snapshot === undefined ? [] : decodeSnapshot(state.snapshot.data);
    this.process(i);
    return core;
  }

  #all(): number[] {
    return Array.from({ length: this.n }, (_, i) => i);
  }

  // ---- checks ----

  #apply(i: number, msg: ApplyMsg): void {
    (this.applyLog[i] as ApplyMsg[]).push(msg);
    let applied = this.applied[i] as unknown[];
    if (msg.type === 'snapshot') {
      const list = decodeSnapshot(msg.snapshot);
      if (list.length !== msg.index || msg.index < applied.length) {
        throw new CoreNetViolation(
          `node ${i}: snapshot at ${msg.index} holds ${list.length} commands, ${applied.length} applied`,
        );
      }
      list.forEach((command, k) => {
        checkCommitted(this.committed, i, k + 1, command);
      });
      this.applied[i] = list;
      applied = list;
    } else {
      if (msg.index !== applied.length + 1) {
        throw new CoreNetViolation(
          `node ${i}: applied index ${msg.index} after ${applied.length} (out of order)`,
        );
      }
      // The service's list keeps a slot for a leader's no-op, so its length stays the index.
      const command = msg.type === 'noop' ? noopMarker(msg.term) : msg.command;
      checkCommitted(this.committed, i, msg.index, command);
      applied.push(command);
    }
    const every = this.options.snapshotEvery;
    const core = this.core(i);
    if (every !== undefined && applied.length - core.snapshotIndex >= every) {
      core.compact(applied.length, encodeSnapshot(applied));
    }
  }

  #checkLeader(i: number): void {
    checkLeader(this.leaders, i, this.core(i));
  }

  /** What node i has durably: must equal its in-memory state once a Ready is persisted. */
  durable(i: number): DurableView {
    return durableView(this.persisters[i] as MemoryPersister);
  }

  #checkDurable(i: number, ready: Ready): void {
    checkDurable(
      i,
      this.core(i),
      this.durable(i),
      ready,
      (id) => this.#processing.get(id)?.request,
    );
  }

  /** Log matching over the durable logs: same index and term ⇒ identical prefixes. */
  checkLogMatching(): void {
    checkLogMatching(this.#all().map((i) => this.durable(i)));
  }

  /** Every node's applied sequence is a prefix of the longest one. */
  checkAppliedPrefixes(): void {
    checkAppliedPrefixes(this.applied);
  }
}

/** What the test service records for a leader's no-op of `term`. */
export function noopMarker(term: number): { readonly noop: number } {
  return { noop: term };
}

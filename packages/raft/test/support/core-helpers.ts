/**
 * Helpers for message-by-message tests of the pure `RaftCore`: building cores with a given
 * persisted log, stepping one RPC and taking the Ready it produced, and `CoreNet`, a
 * deterministic in-memory network wiring N cores together the way `node.ts` drives one core
 * (ready() → persist → send requests / replies → apply → advance(ready)).
 *
 * `CoreNet` also checks, after every Ready it persists, that the durable state (a
 * `MemoryPersister` per core) equals the core's term, vote, snapshot point and last index, and
 * that every reply or request in that Ready is backed by durable state. It checks election
 * safety and state machine safety on the fly, and throws `CoreNetViolation` on any breach.
 */
import type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  LogEntry,
  RaftArgs,
  RaftMethod,
  RaftReplies,
  RequestVoteArgs,
} from '../../src/core/messages.js';
import { RaftCore, type RaftCoreConfig } from '../../src/core/raft.js';
import type { ApplyMsg, OutgoingRequest, ReadOutcome, Ready } from '../../src/core/ready.js';
import type { RaftRandom } from '../../src/env.js';
import { MemoryPersister } from '../../src/persister/memory-persister.js';
import type { PersistedState, Snapshot } from '../../src/persister/persister.js';

// ---- configuration and small builders -----------------------------------------------------

export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 2;
export const MAX_ENTRIES = 64;
export const MAX_INFLIGHT = 4;

/** random.int always 0: every election timeout is exactly `electionTicks`. */
export const zeroRandom: RaftRandom = { int: () => 0 };

/** A random that always returns `value` (clamped to the range asked for). */
export function fixedRandom(value: number): RaftRandom {
  return { int: (n) => Math.min(value, n - 1) };
}

/** A small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): RaftRandom & { next(): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

export type CoreOptions = Partial<Omit<RaftCoreConfig, 'me' | 'peerCount'>>;

export function coreConfig(
  me: number,
  peerCount: number,
  options: CoreOptions = {},
): RaftCoreConfig {
  return {
    me,
    peerCount,
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    maxEntriesPerAppend: MAX_ENTRIES,
    maxInflightAppends: MAX_INFLIGHT,
    checkQuorum: false,
    preVote: false,
    random: zeroRandom,
    ...options,
  };
}

/** The command stored at `index` by `logOf`: easy to recognise in apply messages. */
export const cmdAt = (index: number, term: number): string => `i${index}t${term}`;

/** A log whose entry i+1 has term `terms[i]` and command `cmdAt(i + 1, term)`. */
export function logOf(terms: readonly number[], firstIndex = 1): LogEntry[] {
  return terms.map((term, i) => ({ term, command: cmdAt(firstIndex + i, term) }));
}

/** Persisted state with the given term, vote and log terms (and optional snapshot). */
export function stateOf(
  term: number,
  votedFor: number | null,
  terms: readonly number[],
  snapshot?: Snapshot,
): PersistedState {
  return {
    hardState: { term, votedFor },
    snapshot,
    entries: logOf(terms, (snapshot?.index ?? 0) + 1),
  };
}

export function newCore(
  me: number,
  peerCount: number,
  options: CoreOptions = {},
  state?: PersistedState,
): RaftCore {
  return new RaftCore(coreConfig(me, peerCount, options), state);
}

let nextRequestId = 1_000_000;

/**
 * Runs the driver's cycle once: takes a Ready, saves its `persist` to `persister` if given,
 * and advances past it (as if it was all done).
 */
export function cycle(core: RaftCore, persister?: MemoryPersister): Ready {
  const ready = core.ready();
  if (persister !== undefined && ready.persist !== undefined) persister.save(ready.persist);
  core.advance(ready);
  return ready;
}

/** A MemoryPersister holding `state`, as if a core had saved it. */
export function persisterOf(state: PersistedState): MemoryPersister {
  const persister = new MemoryPersister();
  persister.save({
    hardState: state.hardState,
    snapshot: state.snapshot,
    entries: { from: (state.snapshot?.index ?? 0) + 1, entries: state.entries },
  });
  return persister;
}

/** Steps one incoming RPC and takes the Ready holding its reply (persisted to `persister`). */
export function deliver<M extends RaftMethod>(
  core: RaftCore,
  method: M,
  args: RaftArgs[M],
  persister?: MemoryPersister,
): { reply: RaftReplies[M]; ready: Ready } {
  const requestId = nextRequestId++;
  core.stepRequest(method, args, requestId);
  const ready = cycle(core, persister);
  const out = ready.replies.find((r) => r.requestId === requestId);
  if (out === undefined) throw new Error(`no reply for ${method} in the Ready`);
  return { reply: out.reply as RaftReplies[M], ready };
}

export function appendArgs(args: Partial<AppendEntriesArgs> & { term: number }): AppendEntriesArgs {
  return { leaderId: 0, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, ...args };
}

export function voteArgs(args: Partial<RequestVoteArgs> & { term: number }): RequestVoteArgs {
  return { candidateId: 1, lastLogIndex: 0, lastLogTerm: 0, ...args };
}

export function snapshotArgs(
  args: Partial<InstallSnapshotArgs> & { term: number; lastIncludedIndex: number },
): InstallSnapshotArgs {
  return { leaderId: 0, lastIncludedTerm: args.term, data: new Uint8Array([1, 2, 3]), ...args };
}

export const ok = (term: number): AppendEntriesReply => ({
  term,
  success: true,
  conflictTerm: 0,
  conflictIndex: 0,
});

export const reject = (term: number, conflictTerm: number, conflictIndex: number) => ({
  term,
  success: false,
  conflictTerm,
  conflictIndex,
});

/** The requests of a Ready by method and (optionally) destination. */
export function requestsOf<M extends RaftMethod>(
  ready: Ready | readonly OutgoingRequest[],
  method: M,
  to?: number,
): OutgoingRequest<M>[] {
  const list = Array.isArray(ready) ? ready : (ready as Ready).requests;
  return (list as readonly OutgoingRequest[]).filter(
    (r): r is OutgoingRequest<M> => r.method === method && (to === undefined || r.to === to),
  );
}

/** AppendEntries that carry entries (as opposed to heartbeats). */
export function dataAppends(ready: Ready | readonly OutgoingRequest[], to?: number) {
  return requestsOf(ready, 'AppendEntries', to).filter((r) => r.args.entries.length > 0);
}

/** Ticks `core` until it campaigns; returns the Ready carrying its RequestVotes. */
export function tickUntilCampaign(
  core: RaftCore,
  persister?: MemoryPersister,
  limit = 2 * ELECTION_TICKS,
): Ready {
  const term = core.term;
  for (let i = 0; i < limit; i++) {
    core.tick();
    if (core.term > term) return cycle(core, persister);
  }
  throw new Error(`core ${core.me} did not campaign within ${limit} ticks`);
}

/**
 * Makes `core` the leader of a new term by granting it every vote; returns the Ready holding
 * its first AppendEntries (one probe per follower).
 */
export function electLeader(core: RaftCore): Ready {
  const campaign = tickUntilCampaign(core);
  for (const request of requestsOf(campaign, 'RequestVote')) {
    core.stepResponse(request, { term: core.term, voteGranted: true });
  }
  if (!core.isLeader) throw new Error(`core ${core.me} did not win`);
  return cycle(core);
}

/**
 * Answers the leader's probe to `peer` (found in `ready`) with success, putting that follower
 * into replicate state; returns the Ready that follows.
 */
export function ackProbe(core: RaftCore, ready: Ready, peer: number): Ready {
  const probe = requestsOf(ready, 'AppendEntries', peer).at(-1);
  if (probe === undefined) throw new Error(`no AppendEntries to ${peer}`);
  core.stepResponse(probe, ok(core.term));
  return cycle(core);
}

/** Answers AppendEntries with success, one by one. */
export function ackAll(
  core: RaftCore,
  requests: readonly OutgoingRequest<'AppendEntries'>[],
): void {
  for (const request of requests) core.stepResponse(request, ok(request.args.term));
}

// ---- snapshots of the test service ---------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The test service's state is the list of commands it applied; its snapshot is that list. */
export function encodeSnapshot(commands: readonly unknown[]): Uint8Array {
  return encoder.encode(JSON.stringify(commands));
}

export function decodeSnapshot(data: Uint8Array): unknown[] {
  if (data.length === 0) return [];
  return JSON.parse(decoder.decode(data)) as unknown[];
}

// ---- the in-memory network ------------------------------------------------------------------

/** A safety or durability check of `CoreNet` failed. */
export class CoreNetViolation extends Error {
  override readonly name = 'CoreNetViolation';
}

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

export interface DurableView {
  readonly term: number;
  readonly votedFor: number | null;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** Entries after the snapshot. */
  readonly entries: readonly LogEntry[];
  readonly lastIndex: number;
}

export function durableView(persister: MemoryPersister): DurableView {
  const state = persister.load();
  const snapshotIndex = state?.snapshot?.index ?? 0;
  const entries = state?.entries ?? [];
  return {
    term: state?.hardState.term ?? 0,
    votedFor: state?.hardState.votedFor ?? null,
    snapshotIndex,
    snapshotTerm: state?.snapshot?.term ?? 0,
    entries,
    lastIndex: snapshotIndex + entries.length,
  };
}

/** The term of `index` in a durable log, or undefined if not held. */
export function durableTerm(view: DurableView, index: number): number | undefined {
  if (index === view.snapshotIndex) return view.snapshotTerm;
  return view.entries[index - view.snapshotIndex - 1]?.term;
}

export class CoreNet {
  readonly n: number;
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

  readonly #cut = new Set<string>();
  readonly #processing = new Map<number, Rpc>();
  #nextRequestId = 1;

  constructor(options: CoreNetOptions) {
    this.n = options.n;
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

  // ---- links ----

  linked(from: number, to: number): boolean {
    return !this.#cut.has(`${from}>${to}`);
  }

  cut(from: number, to: number): void {
    this.#cut.add(`${from}>${to}`);
  }

  /** Cuts every link between the given groups (nodes in no group keep their links). */
  partition(...groups: readonly (readonly number[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut(x, y);
      }
    }
  }

  isolate(i: number): void {
    for (let j = 0; j < this.n; j++) {
      if (j === i) continue;
      this.cut(i, j);
      this.cut(j, i);
    }
  }

  heal(): void {
    this.#cut.clear();
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
    if (ready.persist !== undefined) (this.persisters[i] as MemoryPersister).save(ready.persist);
    if (this.options.checkDurability !== false) this.#checkDurable(i, ready);
    for (const request of ready.requests) {
      this.queue.push({
        from: i,
        fromIncarnation: this.incarnation[i] as number,
        to: request.to,
        request,
        reply: undefined,
        phase: 'request',
      });
    }
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

  /** Delivers in FIFO order (processing every node in between) until the wire is empty. */
  deliverAll(limit = 200_000): void {
    let steps = 0;
    this.processAll();
    while (this.queue.length > 0) {
      while (this.queue.length > 0) {
        if (++steps > limit) throw new Error(`wire not quiet after ${limit} deliveries`);
        this.deliverAt(0);
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
        this.#checkCommitted(i, k + 1, command);
      });
      this.applied[i] = list;
      applied = list;
    } else {
      if (msg.index !== applied.length + 1) {
        throw new CoreNetViolation(
          `node ${i}: applied index ${msg.index} after ${applied.length} (out of order)`,
        );
      }
      this.#checkCommitted(i, msg.index, msg.command);
      applied.push(msg.command);
    }
    const every = this.options.snapshotEvery;
    const core = this.core(i);
    if (every !== undefined && applied.length - core.snapshotIndex >= every) {
      core.compact(applied.length, encodeSnapshot(applied));
    }
  }

  #checkCommitted(i: number, index: number, command: unknown): void {
    if (!this.committed.has(index)) {
      this.committed.set(index, command);
      return;
    }
    const before = this.committed.get(index);
    if (JSON.stringify(before) !== JSON.stringify(command)) {
      throw new CoreNetViolation(
        `state machine safety: node ${i} applied ${JSON.stringify(command)} at ${index}, ` +
          `another node applied ${JSON.stringify(before)}`,
      );
    }
  }

  #checkLeader(i: number): void {
    const core = this.core(i);
    if (!core.isLeader) return;
    const other = this.leaders.get(core.term);
    if (other === undefined) this.leaders.set(core.term, i);
    else if (other !== i) {
      throw new CoreNetViolation(`election safety: ${other} and ${i} both lead term ${core.term}`);
    }
  }

  /** What node i has durably: must equal its in-memory state once a Ready is persisted. */
  durable(i: number): DurableView {
    return durableView(this.persisters[i] as MemoryPersister);
  }

  #checkDurable(i: number, ready: Ready): void {
    const core = this.core(i);
    const d = this.durable(i);
    const fail = (what: string): never => {
      throw new CoreNetViolation(`node ${i} (term ${core.term}): ${what}`);
    };
    if (d.term !== core.term) fail(`durable term ${d.term}, in memory ${core.term}`);
    if (d.votedFor !== core.votedFor)
      fail(`durable vote ${d.votedFor}, in memory ${core.votedFor}`);
    if (d.snapshotIndex !== core.snapshotIndex) {
      fail(`durable snapshot index ${d.snapshotIndex}, in memory ${core.snapshotIndex}`);
    }
    if (d.lastIndex !== core.lastIndex) {
      fail(`durable last index ${d.lastIndex}, in memory ${core.lastIndex}`);
    }
    for (const request of ready.requests) {
      // A pre-vote asks about term + 1 without taking it: nothing to persist.
      if (request.method === 'RequestVote' && (request.args as { preVote?: boolean }).preVote)
        continue;
      if (request.args.term > d.term) fail(`sends term ${request.args.term} before persisting it`);
      if (request.method === 'RequestVote' && request.args.term === d.term && d.votedFor !== i) {
        fail(`asks for votes in term ${d.term} without a durable vote for itself`);
      }
    }
    for (const { requestId, reply } of ready.replies) {
      if (reply.term > d.term) fail(`replies with term ${reply.term} before persisting it`);
      const rpc = this.#processing.get(requestId);
      if (rpc === undefined || reply.term !== d.term) continue;
      if (
        rpc.request.method === 'RequestVote' &&
        !(rpc.request.args as RequestVoteArgs).preVote &&
        (reply as RaftReplies['RequestVote']).voteGranted
      ) {
        const { candidateId } = rpc.request.args as RequestVoteArgs;
        if (d.votedFor !== candidateId) fail(`grants a vote to ${candidateId} not durably cast`);
      }
      if (
        rpc.request.method === 'AppendEntries' &&
        (reply as RaftReplies['AppendEntries']).success
      ) {
        const args = rpc.request.args as AppendEntriesArgs;
        args.entries.forEach((entry, k) => {
          const index = args.prevLogIndex + 1 + k;
          if (index <= d.snapshotIndex) return;
          const held = d.entries[index - d.snapshotIndex - 1];
          if (
            held?.term !== entry.term ||
            JSON.stringify(held.command) !== JSON.stringify(entry.command)
          ) {
            fail(`acknowledges entry ${index} (term ${entry.term}) it has not durably stored`);
          }
        });
      }
    }
  }

  /** Log matching over the durable logs: same index and term ⇒ identical prefixes. */
  checkLogMatching(): void {
    const views = this.#all().map((i) => this.durable(i));
    for (let a = 0; a < this.n; a++) {
      for (let b = a + 1; b < this.n; b++) {
        const x = views[a] as DurableView;
        const y = views[b] as DurableView;
        const from = Math.max(x.snapshotIndex, y.snapshotIndex) + 1;
        const to = Math.min(x.lastIndex, y.lastIndex);
        let matchedFrom = -1;
        for (let index = to; index >= from; index--) {
          if (durableTerm(x, index) === durableTerm(y, index)) {
            matchedFrom = index;
            break;
          }
        }
        for (let index = from; index <= matchedFrom; index++) {
          const ex = x.entries[index - x.snapshotIndex - 1] as LogEntry;
          const ey = y.entries[index - y.snapshotIndex - 1] as LogEntry;
          if (ex.term !== ey.term || JSON.stringify(ex.command) !== JSON.stringify(ey.command)) {
            throw new CoreNetViolation(
              `log matching: nodes ${a} and ${b} agree at ${matchedFrom} but differ at ${index}`,
            );
          }
        }
      }
    }
  }

  /** Every node's applied sequence is a prefix of the longest one. */
  checkAppliedPrefixes(): void {
    const longest = this.applied.reduce((a, b) => (b.length > a.length ? b : a), []);
    this.applied.forEach((list, i) => {
      list.forEach((command, k) => {
        if (JSON.stringify(command) !== JSON.stringify(longest[k])) {
          throw new CoreNetViolation(`node ${i}'s applied sequence is not a prefix at ${k + 1}`);
        }
      });
    });
  }
}

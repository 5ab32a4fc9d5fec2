import {
  type Logger,
  RpcServer,
  type SeededRandom,
  type Sim,
  type SimClientEnd,
  type SimNetwork,
  silentLogger,
  stderrLogger,
} from '@flotilla/transport';
import { MemoryPersister, RaftNode } from '../../src/index.js';
import { AppliedLogs, sameCommand } from './appliers.js';

/** The tester's election timeout: it allows a leader to be elected within this (1 s). */
export const RAFT_ELECTION_TIMEOUT = 1000;
/** The largest persisted Raft state the snapshot tests allow (bytes). */
export const MAX_LOG_SIZE = 2000;

/** A check of the harness failed: the message says what, as the lab's `t.Fatalf` would. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

export interface ClusterOptions {
  readonly unreliable?: boolean;
  /** Use the snapshotting applier (3D). */
  readonly snapshot?: boolean;
  /** Print nothing (the stress runner). */
  readonly quiet?: boolean;
}

/**
 * Builds the lab's `config`: n Raft servers on `sim.net`, fully connected, long delays on,
 * reliability as asked. Server i is bound on the network as `String(i)`.
 */
export async function makeCluster(
  sim: Sim,
  n: number,
  options: ClusterOptions = {},
): Promise<Cluster> {
  const cluster = new Cluster(sim, n, options);
  for (let i = 0; i < n; i++) await cluster.start1(i);
  for (let i = 0; i < n; i++) cluster.connect(i);
  return cluster;
}

/** Runs `body` on a fresh cluster and kills every node afterwards, pass or fail. */
export async function withCluster(
  sim: Sim,
  n: number,
  options: ClusterOptions,
  body: (cfg: Cluster) => Promise<void>,
): Promise<void> {
  const cfg = await makeCluster(sim, n, options);
  try {
    await body(cfg);
  } finally {
    cfg.cleanup();
  }
}

/** The lab's `config` in virtual time. Every wait is on the virtual clock. */
export class Cluster {
  readonly sim: Sim;
  readonly net: SimNetwork;
  readonly n: number;
  /** The test's own random draws (the lab's `rand`), seeded from the simulation. */
  readonly random: SeededRandom;
  readonly rafts: (RaftNode | undefined)[];
  readonly connected: boolean[];
  readonly saved: (MemoryPersister | undefined)[];
  readonly applied: AppliedLogs;
  readonly snapshot: boolean;
  readonly #endNames: (string[] | undefined)[];
  /** Bumped at every crash, so a killed incarnation's late callbacks are ignored. */
  readonly #generation: number[];
  readonly #errors: string[] = [];
  readonly #print: (line: string) => void;
  #t0 = 0;
  #rpcs0 = 0;
  #bytes0 = 0;
  #maxIndex0 = 0;

  constructor(sim: Sim, n: number, options: ClusterOptions = {}) {
    this.sim = sim;
    this.net = sim.net;
    this.n = n;
    this.random = sim.random.fork();
    this.rafts = new Array<RaftNode | undefined>(n).fill(undefined);
    this.connected = new Array<boolean>(n).fill(false);
    this.saved = new Array<MemoryPersister | undefined>(n).fill(undefined);
    this.applied = new AppliedLogs(n);
    this.snapshot = options.snapshot ?? false;
    this.#endNames = new Array<string[] | undefined>(n).fill(undefined);
    this.#generation = new Array<number>(n).fill(0);
    this.#print = options.quiet ? () => {} : (line) => console.log(line);
    this.setUnreliable(options.unreliable ?? false);
    this.net.setLongDelays(true);
  }

  /** Shuts server i down, keeping a copy of what it persisted (the lab's crash1). */
  crash1(i: number): void {
    this.disconnect(i);
    // Unbind the server first: a reply from the old instance must never reach a client for a
    // write that only the old persister holds.
    this.net.deleteServer(String(i));
    const saved = this.saved[i];
    if (saved !== undefined) this.saved[i] = saved.copy();
    this.#generation[i] = (this.#generation[i] as number) + 1;
    const node = this.rafts[i];
    if (node !== undefined) {
      this.rafts[i] = undefined;
      node.kill();
    }
  }

  /**
   * (Re)starts server i from a copy of its saved state, with fresh outgoing ends (so a killed
   * instance can't send). The server stays disconnected until `connect(i)`.
   *
   * The persisted snapshot reaches the harness's view as the node's first apply message, which
   * the snapshotting applier ingests (with the lab's checks, plus the one the lab makes of every
   * other snapshot message: its index matches the snapshot's). The lab's tester reads it from
   * the persister instead ("ideally Raft should send it up on applyCh"); only 3D restarts
   * with a snapshot, always with that applier.
   */
  async start1(i: number, snapshotApplier: boolean = this.snapshot): Promise<void> {
    this.crash1(i);
    const names = Array.from({ length: this.n }, () => this.random.string(20));
    this.#endNames[i] = names;
    const ends: SimClientEnd[] = names.map((name, j) => {
      const end = this.net.makeEnd(name);
      this.net.connect(name, String(j));
      this.net.enable(name, (this.connected[i] as boolean) && (this.connected[j] as boolean));
      return end;
    });

    this.applied.lastApplied[i] = 0;
    const previous = this.saved[i];
    const persister = previous === undefined ? new MemoryPersister() : previous.copy();
    this.saved[i] = persister;

    const generation = this.#generation[i] as number;
    const current = (): boolean => this.#generation[i] === generation;
    let node: RaftNode | undefined;
    const snapshotting = snapshotApplier
      ? this.applied.snapshotting(i, () => (current() ? node : undefined))
      : undefined;
    const apply = snapshotting?.onApply ?? this.applied.plain(i);
    node = await RaftNode.create({
      me: i,
      peers: ends,
      persister,
      clock: this.sim.clock,
      random: this.sim.random.fork(),
      // The lab counts indexes from the first command: a leader's no-op would shift them.
      noopOnElection: false,
      onApply: (msg) => {
        if (current()) apply(msg);
      },
      logger: process.env.FLOTILLA_RAFT_LOG ? stderrLogger : silentLogger,
    });
    if (!current()) {
      node.kill(); // crashed again while it was being created
      return;
    }
    this.rafts[i] = node;
    snapshotting?.flushPending();

    const raft = node;
    const server = new RpcServer({ logger: this.#rpcLogger(i, current) }).addService('Raft', {
      RequestVote: (args: unknown) => raft.service.RequestVote(args),
      AppendEntries: (args: unknown) => raft.service.AppendEntries(args),
      InstallSnapshot: (args: unknown) => raft.service.InstallSnapshot(args),
    });
    this.net.addServer(String(i), server);
  }

  /** Attaches server i to the network: its ends to connected servers and theirs to it. */
  connect(i: number): void {
    this.connected[i] = true;
    for (let j = 0; j < this.n; j++) {
      if (!this.connected[j]) continue;
      const out = this.#endNames[i]?.[j];
      if (out !== undefined) this.net.enable(out, true);
      const incoming = this.#endNames[j]?.[i];
      if (incoming !== undefined) this.net.enable(incoming, true);
    }
  }

  /** Detaches server i: all its outgoing and incoming ends are disabled. */
  disconnect(i: number): void {
    this.connected[i] = false;
    for (let j = 0; j < this.n; j++) {
      const out = this.#endNames[i]?.[j];
      if (out !== undefined) this.net.enable(out, false);
      const incoming = this.#endNames[j]?.[i];
      if (incoming !== undefined) this.net.enable(incoming, false);
    }
  }

  setUnreliable(unreliable: boolean): void {
    this.net.setReliable(!unreliable);
  }

  setLongReordering(longReordering: boolean): void {
    this.net.setLongReordering(longReordering);
  }

  /** RPCs that reached server i's handlers. */
  rpcCount(i: number): number {
    return this.net.getCount(String(i));
  }

  rpcTotal(): number {
    return this.net.getTotalCount();
  }

  bytesTotal(): number {
    return this.net.getTotalBytes();
  }

  /** The largest persisted Raft state (snapshot excluded) over all servers. */
  logSize(): number {
    return Math.max(0, ...this.saved.map((p) => p?.raftStateSize() ?? 0));
  }

  /** A random command value, like Go's `rand.Int()` (51 bits, exact in msgpack and JS). */
  randCommand(): number {
    return this.random.int(2 ** 30) * 2 ** 21 + this.random.int(2 ** 21);
  }

  /** Sleeps `ms` of virtual time, then fails if an applier or a background task failed meanwhile. */
  async sleep(ms: number): Promise<void> {
    await this.sim.sleep(ms);
    this.checkErrors();
  }

  /** Fails the test (the lab's `t.Fatalf`). */
  fatal(message: string): never {
    throw new HarnessError(message);
  }

  /** Throws the first failure recorded by an applier, an RPC handler or a background task. */
  checkErrors(): void {
    const err = this.#errors[0] ?? this.applied.firstError();
    if (err !== undefined) throw new HarnessError(err);
  }

  /**
   * Runs `task` concurrently (the lab's `go func`). The returned promise never rejects: a
   * failure is recorded and fails the test at its next check; `undefined` stands for it.
   */
  go<T>(task: () => Promise<T>): Promise<T | undefined> {
    return task().catch((err: unknown) => {
      this.#errors.push(err instanceof Error ? err.message : String(err));
      return undefined;
    });
  }

  /**
   * Up to 10 rounds of sleeping 450–549 ms: the connected servers claiming leadership, by term.
   * Two leaders in one term fail; returns the leader of the newest term; none in 10 rounds fails.
   */
  async checkOneLeader(): Promise<number> {
    for (let iter = 0; iter < 10; iter++) {
      await this.sleep(450 + this.random.int(100));
      const leaders = new Map<number, number[]>();
      for (let i = 0; i < this.n; i++) {
        const node = this.rafts[i];
        if (!this.connected[i] || node === undefined) continue;
        const { term, isLeader } = node.getState();
        if (isLeader) leaders.set(term, [...(leaders.get(term) ?? []), i]);
      }
      let lastTermWithLeader = -1;
      for (const [term, termLeaders] of leaders) {
        if (termLeaders.length > 1) {
          this.fatal(`term ${term} has ${termLeaders.length} (>1) leaders: ${termLeaders}`);
        }
        if (term > lastTermWithLeader) lastTermWithLeader = term;
      }
      if (leaders.size !== 0) return (leaders.get(lastTermWithLeader) as number[])[0] as number;
    }
    return this.fatal('expected one leader, got none');
  }

  /** All connected servers agree on the term; returns it. */
  checkTerms(): number {
    let term = -1;
    for (let i = 0; i < this.n; i++) {
      const node = this.rafts[i];
      if (!this.connected[i] || node === undefined) continue;
      const xterm = node.getState().term;
      if (term === -1) term = xterm;
      else if (term !== xterm) this.fatal(`servers disagree on term (${term} vs ${xterm})`);
    }
    return term;
  }

  /** No connected server claims leadership. */
  checkNoLeader(): void {
    for (let i = 0; i < this.n; i++) {
      const node = this.rafts[i];
      if (this.connected[i] && node?.getState().isLeader) {
        this.fatal(`expected no leader among connected servers, but ${i} claims to be leader`);
      }
    }
  }

  /** How many servers applied `index`, and the command; fails if two applied different ones. */
  nCommitted(index: number): { count: number; command: unknown } {
    this.checkErrors();
    let count = 0;
    let command: unknown;
    for (const log of this.applied.logs) {
      if (!log.has(index)) continue;
      const cmd1 = log.get(index);
      if (count > 0 && !sameCommand(command, cmd1)) {
        this.fatal(
          `committed values do not match: index ${index}, ${String(command)}, ${String(cmd1)}`,
        );
      }
      count++;
      command = cmd1;
    }
    return { count, command };
  }

  /**
   * Waits (10 ms doubling to 1 s, 30 rounds) until n servers applied `index`; returns its
   * command, or -1 as soon as some server's term passed `startTerm` (when startTerm > -1).
   */
  async wait(index: number, n: number, startTerm: number): Promise<unknown> {
    let to = 10;
    for (let iters = 0; iters < 30; iters++) {
      if (this.nCommitted(index).count >= n) break;
      await this.sleep(to);
      if (to < 1000) to *= 2;
      if (startTerm > -1) {
        for (const node of this.rafts) {
          if (node !== undefined && node.getState().term > startTerm) return -1;
        }
      }
    }
    const { count, command } = this.nCommitted(index);
    if (count < n) this.fatal(`only ${count} decided for index ${index}; wanted ${n}`);
    return command;
  }

  /**
   * A complete agreement on `cmd` by at least `expectedServers`: for up to 10 s, offer it to
   * each connected server in turn; once one accepts, poll every 20 ms for 2 s; without `retry`
   * a failed attempt fails the test; when nobody accepts, sleep 50 ms. Returns the index.
   */
  async one(cmd: unknown, expectedServers: number, retry: boolean): Promise<number> {
    const t0 = this.sim.clock.now();
    let starts = 0;
    while (this.sim.clock.now() - t0 < 10_000) {
      let index = -1;
      for (let si = 0; si < this.n; si++) {
        starts = (starts + 1) % this.n;
        const node = this.connected[starts] ? this.rafts[starts] : undefined;
        if (node === undefined) continue;
        const started = node.start(cmd);
        if (started.isLeader) {
          index = started.index;
          break;
        }
      }
      if (index !== -1) {
        const t1 = this.sim.clock.now();
        while (this.sim.clock.now() - t1 < 2000) {
          const { count, command } = this.nCommitted(index);
          if (count > 0 && count >= expectedServers && sameCommand(command, cmd)) return index;
          await this.sleep(20);
        }
        if (!retry) this.fatal(`one(${describe(cmd)}) failed to reach agreement`);
      } else {
        await this.sleep(50);
      }
    }
    return this.fatal(`one(${describe(cmd)}) failed to reach agreement`);
  }

  /** Prints the test's description and starts its counters. */
  begin(description: string): void {
    this.#print(`${description} ...`);
    this.#t0 = this.sim.clock.now();
    this.#rpcs0 = this.rpcTotal();
    this.#bytes0 = this.bytesTotal();
    this.#maxIndex0 = this.applied.maxIndex;
  }

  /**
   * Checks pending failures, then prints the lab's Passed line. (The lab's 120 s limit needs no
   * check here: `simulateTest` fails the run the moment virtual time passes it.)
   */
  end(): void {
    this.checkErrors();
    const seconds = (this.sim.clock.now() - this.#t0) / 1000;
    const nRpc = this.rpcTotal() - this.#rpcs0;
    const nBytes = this.bytesTotal() - this.#bytes0;
    const nCmds = this.applied.maxIndex - this.#maxIndex0;
    this.#print(
      `  ... Passed --  ${seconds.toFixed(1).padStart(4)}  ${this.n} ${String(nRpc).padStart(4)} ` +
        `${String(nBytes).padStart(7)} ${String(nCmds).padStart(4)}`,
    );
  }

  /** Kills every node (the lab's cleanup; the simulation stops the network). */
  cleanup(): void {
    for (let i = 0; i < this.n; i++) {
      this.#generation[i] = (this.#generation[i] as number) + 1;
      this.rafts[i]?.kill();
      this.rafts[i] = undefined;
    }
  }

  log(line: string): void {
    this.#print(line);
  }

  /** An RPC server logger that turns handler failures of the live incarnation into test failures. */
  #rpcLogger(i: number, current: () => boolean): Logger {
    const record = (fields: Record<string, unknown>, message: string): void => {
      if (current()) this.#errors.push(`server ${i}: ${message} ${JSON.stringify(fields)}`);
    };
    return { warn: record, info: () => {} };
  }
}

function describe(cmd: unknown): string {
  const text = typeof cmd === 'string' ? JSON.stringify(cmd) : String(cmd);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

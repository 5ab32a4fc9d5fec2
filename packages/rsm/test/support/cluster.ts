import { MemoryPersister } from '@flotilla/raft';
import { RpcServer, type Sim, type SimClientEnd, silentLogger } from '@flotilla/transport';
import {
  type ReplicatedStateMachineOptions,
  ReplicatedStateMachine as Rsm,
} from '../../src/index.js';
import { submitService } from './clerk.js';
import { KvMachine } from './kv-machine.js';

export type KvRsm = Rsm<KvMachine>;

/** rsm's options a test may set for every server of a cluster. */
export type ClusterOptions = Partial<
  Omit<
    ReplicatedStateMachineOptions<KvMachine>,
    'me' | 'peers' | 'persister' | 'clock' | 'random' | 'machine'
  >
> & { readonly unreliable?: boolean };

/**
 * n rsm servers running `KvMachine` on `sim.net`, the way the lab's kvraft config builds
 * them: server i is bound as `String(i)` with its Raft service on one RpcServer; a crash
 * keeps a copy of what it persisted and a restart starts from that copy.
 */
export class RsmCluster {
  readonly sim: Sim;
  readonly n: number;
  readonly servers: (KvRsm | undefined)[];
  readonly machines: (KvMachine | undefined)[];
  readonly persisters: MemoryPersister[];
  readonly #options: ClusterOptions;
  /** #ends[i][j]: the end name server i uses to call server j. */
  readonly #ends: string[][];
  /** The group each server is in; servers talk only within a group. */
  #group: number[];

  private constructor(sim: Sim, n: number, options: ClusterOptions) {
    this.sim = sim;
    this.n = n;
    this.#options = options;
    this.servers = new Array<KvRsm | undefined>(n).fill(undefined);
    this.machines = new Array<KvMachine | undefined>(n).fill(undefined);
    this.persisters = Array.from({ length: n }, () => new MemoryPersister());
    this.#ends = Array.from({ length: n }, () => []);
    this.#group = new Array<number>(n).fill(0);
    sim.net.setReliable(!(options.unreliable ?? false));
  }

  static async start(sim: Sim, n: number, options: ClusterOptions = {}): Promise<RsmCluster> {
    const cluster = new RsmCluster(sim, n, options);
    for (let i = 0; i < n; i++) await cluster.start1(i);
    return cluster;
  }

  server(i: number): KvRsm {
    const server = this.servers[i];
    if (server === undefined) throw new Error(`server ${i} is down`);
    return server;
  }

  machine(i: number): KvMachine {
    return this.server(i).machine;
  }

  /** Stops server i, keeping a copy of what it persisted (the lab's ShutdownServer). */
  crash1(i: number): void {
    this.sim.net.deleteServer(String(i));
    for (const name of this.#ends[i] ?? []) this.sim.net.enable(name, false);
    this.persisters[i] = (this.persisters[i] as MemoryPersister).copy();
    this.servers[i]?.kill();
    this.servers[i] = undefined;
    this.#applyLinks();
  }

  /** (Re)starts server i from a copy of its persisted state, in the group it was in. */
  async start1(i: number): Promise<void> {
    if (this.servers[i] !== undefined) this.crash1(i);
    const net = this.sim.net;
    const names = Array.from(
      { length: this.n },
      (_, j) => `${i}->${j}#${this.sim.random.int(1e9)}`,
    );
    this.#ends[i] = names;
    const peers = names.map((name, j) => {
      const end = net.makeEnd(name);
      net.connect(name, String(j));
      return end;
    });
    const persister = (this.persisters[i] as MemoryPersister).copy();
    this.persisters[i] = persister;
    const { unreliable, ...options } = this.#options;
    const server = await Rsm.create({
      me: i,
      peers,
      persister,
      clock: this.sim.clock,
      random: this.sim.random.fork(),
      machine: new KvMachine(),
      logger: silentLogger,
      ...options,
    });
    this.servers[i] = server;
    this.machines[i] = server.machine;
    // The lab registers the service and Raft on one server; `Rsm.Submit` stands for the service.
    const rpc = new RpcServer({ logger: silentLogger })
      .addService('Raft', server.service)
      .addService('Rsm', submitService(server));
    net.addServer(String(i), rpc);
    this.#applyLinks();
  }

  /** Ends to every server for a clerk, always enabled (partitions cut only servers' links). */
  clerkEnds(name: string): SimClientEnd[] {
    return Array.from({ length: this.n }, (_, i) => {
      const end = this.sim.net.makeEnd(`${name}->${i}`);
      this.sim.net.connect(end.name, String(i));
      this.sim.net.enable(end.name, true);
      return end;
    });
  }

  /** Servers talk only to servers in their own group (the lab's partition(p1, p2)). */
  partition(...groups: readonly (readonly number[])[]): void {
    this.#group = new Array<number>(this.n).fill(-1);
    groups.forEach((group, g) => {
      for (const i of group) this.#group[i] = g;
    });
    this.#applyLinks();
  }

  connectAll(): void {
    this.partition(Array.from({ length: this.n }, (_, i) => i));
  }

  /** Waits until exactly one live server in the newest term says it leads; returns it. */
  async leader(among: readonly number[] = this.#all()): Promise<number> {
    for (let round = 0; round < 40; round++) {
      let best: { id: number; term: number } | undefined;
      for (const i of among) {
        const state = this.servers[i]?.getState();
        if (state?.isLeader && (best === undefined || state.term > best.term)) {
          best = { id: i, term: state.term };
        }
      }
      if (best !== undefined) return best.id;
      await this.sim.sleep(100);
    }
    throw new Error('no leader elected');
  }

  /** Submits on whichever server leads, retrying NotLeader and unknown outcomes, like a clerk. */
  async submitToLeader(
    op: Parameters<KvRsm['submit']>[0],
    session?: Parameters<KvRsm['submit']>[1],
  ): Promise<string> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const leader = await this.leader();
      try {
        return await this.server(leader).submit(op, session);
      } catch (err) {
        if (session === undefined) throw err;
        await this.sim.sleep(50);
      }
    }
    throw new Error('submit did not complete');
  }

  /** Waits until every live server has applied through `index`. */
  async appliedEverywhere(index: number): Promise<void> {
    for (let round = 0; round < 100; round++) {
      if (this.servers.every((s) => s === undefined || s.lastApplied >= index)) return;
      await this.sim.sleep(50);
    }
    throw new Error(`not every server applied ${index}`);
  }

  /** The largest persisted Raft state over all servers (the lab's LogSize). */
  logSize(): number {
    return Math.max(...this.persisters.map((p) => p.raftStateSize()));
  }

  /** The largest persisted snapshot over all servers (the lab's SnapshotSize). */
  snapshotSize(): number {
    return Math.max(...this.persisters.map((p) => p.snapshotSize()));
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.servers.map((s) => s?.close()));
  }

  #all(): number[] {
    return Array.from({ length: this.n }, (_, i) => i);
  }

  #applyLinks(): void {
    for (let i = 0; i < this.n; i++) {
      for (let j = 0; j < this.n; j++) {
        const name = this.#ends[i]?.[j];
        if (name === undefined) continue;
        const up = this.servers[i] !== undefined && this.servers[j] !== undefined;
        this.sim.net.enable(name, up && this.#group[i] !== -1 && this.#group[i] === this.#group[j]);
      }
    }
  }
}

/** Runs `body` on a fresh cluster and closes every server afterwards, pass or fail. */
export async function withCluster<T>(
  sim: Sim,
  n: number,
  options: ClusterOptions,
  body: (cluster: RsmCluster) => Promise<T>,
): Promise<T> {
  const cluster = await RsmCluster.start(sim, n, options);
  try {
    return await body(cluster);
  } finally {
    await cluster.cleanup();
  }
}

/** Whether `promise` settled within the microtasks queued so far (it never waits for time). */
export async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

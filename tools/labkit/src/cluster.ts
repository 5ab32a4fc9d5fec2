import { MemoryPersister } from '@flotilla/raft';
import { type ClientEnd, type Logger, RpcServer, type SimNetwork } from '@flotilla/transport';
import type { ClientPool } from './clients.js';
import { END_NAME_LENGTH } from './constants.js';
import type { ClerkFactory, LabServer, ServerEnv, StartServer } from './contract.js';
import { LabError } from './errors.js';
import { plainServerName, type ServerNaming } from './names.js';
import type { World } from './world.js';

export interface ClusterOptions<S extends LabServer, C extends object = object> {
  /** Servers in the cluster (the lab's `n`). */
  readonly n: number;
  readonly startServer: StartServer<S>;
  /** Passed to every server; -1 means never snapshot. */
  readonly maxraftstate: number;
  /** Server i's name on the network; default `"i"` (kvraft). Names must be unique in the world. */
  readonly serverName?: ServerNaming;
  /** How `makeClient` builds a clerk (e.g. kvraft's `Clerk`); `makeClientWith` takes any. */
  readonly makeClerk?: ClerkFactory<C>;
}

/**
 * The lab's `config` for one replicated service: n servers, each with its own outgoing ends to
 * all n and its own persister, on the world's network. One cluster is kvraft's or
 * shardctrler's whole tester; shardkv's is several (its groups and the controller) in one
 * `World`.
 *
 * Invariants: `#endNames[i]` is undefined exactly while server i is down (shut down, or
 * never started); each start bumps `#generation[i]`, as does each shutdown, so a late
 * callback of a former incarnation (its RPC logger, its `makeEnd`, the end of its start)
 * can tell it is no longer current.
 */
export class ServiceCluster<S extends LabServer = LabServer, C extends object = object> {
  readonly world: World;
  readonly net: SimNetwork;
  readonly n: number;
  readonly maxraftstate: number;
  readonly serverName: ServerNaming;
  readonly #startServer: StartServer<S>;
  readonly #makeClerk: ClerkFactory<C> | undefined;
  readonly #servers: (S | undefined)[];
  readonly #saved: (MemoryPersister | undefined)[];
  /** `#endNames[i][j]`: server i's end to server j. */
  readonly #endNames: (string[] | undefined)[];
  /** Ends server i's current incarnation made with `env.makeEnd`. */
  readonly #madeEnds: string[][];
  readonly #generation: number[];

  /** @internal made by `World.addCluster`. */
  constructor(world: World, options: ClusterOptions<S, C>) {
    if (!Number.isInteger(options.n) || options.n < 1) {
      throw new RangeError(`a cluster needs at least one server, got n = ${options.n}`);
    }
    this.world = world;
    this.net = world.net;
    this.n = options.n;
    this.maxraftstate = options.maxraftstate;
    this.serverName = options.serverName ?? plainServerName;
    this.#startServer = options.startServer;
    this.#makeClerk = options.makeClerk;
    this.#servers = new Array<S | undefined>(this.n).fill(undefined);
    this.#saved = new Array<MemoryPersister | undefined>(this.n).fill(undefined);
    this.#endNames = new Array<string[] | undefined>(this.n).fill(undefined);
    this.#madeEnds = Array.from({ length: this.n }, () => []);
    this.#generation = new Array<number>(this.n).fill(0);
  }

  /** Server i's name on the network. */
  name(i: number): string {
    return this.serverName(this.#index(i));
  }

  /** `[0, 1, …, n-1]` (the lab's `All()`). */
  all(): number[] {
    return Array.from({ length: this.n }, (_, i) => i);
  }

  /** Server i's current incarnation, or undefined while it is down. */
  server(i: number): S | undefined {
    return this.#servers[this.#index(i)];
  }

  /** The persister server i's next start copies (the lab's `saved[i]`). */
  persister(i: number): MemoryPersister | undefined {
    return this.#saved[this.#index(i)];
  }

  /**
   * The lab's `StartServer(i)`: fresh outgoing ends (created disabled), a persister that is a
   * copy of the last saved one (or a new one), start, and bind its services on the network.
   * Links are **not** enabled: call `connectAll()` (or `connect`) after. A server that is up
   * is shut down first.
   */
  async startServer(i: number): Promise<void> {
    this.#index(i);
    if (this.#servers[i] !== undefined || this.#endNames[i] !== undefined) this.shutdownServer(i);
    const generation = this.#bump(i);
    const { net, world } = this;
    const names = this.all().map(() => world.random.string(END_NAME_LENGTH));
    const ends: ClientEnd[] = names.map((name, j) => {
      const end = net.makeEnd(name);
      net.connect(name, this.name(j));
      return end;
    });
    this.#endNames[i] = names;
    this.#madeEnds[i] = [];

    // A fresh persister, so the old instance can't overwrite the new one's state; it starts
    // from exactly what was last saved.
    const previous = this.#saved[i];
    const persister = previous === undefined ? new MemoryPersister() : previous.copy();
    this.#saved[i] = persister;

    const server = await this.#startServer(
      ends,
      i,
      persister,
      this.maxraftstate,
      this.#env(i, generation),
    );
    if (this.#generation[i] !== generation) {
      server.kill(); // shut down while it was starting
      return;
    }
    this.#servers[i] = server;
    const rpc = new RpcServer({ logger: this.#rpcLogger(i, generation), clock: world.clock });
    for (const [service, methods] of Object.entries(server.services)) {
      rpc.addService(service, methods);
    }
    net.addServer(this.name(i), rpc);
  }

  /**
   * The lab's `ShutdownServer(i)`: disconnect i from everyone; delete it from the network, so
   * calls in flight to it get no reply; only then replace its persister with a copy (the old
   * instance may go on writing to the orphan, and no client may hear "OK" for a write only
   * the orphan holds); kill it. Its outgoing ends are also deleted, so it can't send.
   */
  shutdownServer(i: number): void {
    this.#index(i);
    this.disconnect(i, this.all());
    this.net.deleteServer(this.name(i));
    const saved = this.#saved[i];
    if (saved !== undefined) this.#saved[i] = saved.copy();
    this.#bump(i);
    for (const name of [...(this.#endNames[i] ?? []), ...(this.#madeEnds[i] ?? [])]) {
      this.net.enable(name, false);
      this.net.deleteEnd(name);
    }
    this.#endNames[i] = undefined;
    this.#madeEnds[i] = [];
    const server = this.#servers[i];
    this.#servers[i] = undefined;
    server?.kill();
  }

  /** Starts every server, in order (links not enabled). */
  async startAll(): Promise<void> {
    for (const i of this.all()) await this.startServer(i);
  }

  shutdownAll(): void {
    for (const i of this.all()) this.shutdownServer(i);
  }

  /** Enables server i's ends toward each server in `to` **and** theirs toward i. */
  connect(i: number, to: readonly number[]): void {
    this.#setLinks(i, to, true);
  }

  /** Disables server i's ends toward each server in `from` and theirs toward i. */
  disconnect(i: number, from: readonly number[]): void {
    this.#setLinks(i, from, false);
  }

  connectAll(): void {
    for (const i of this.all()) this.connect(i, this.all());
  }

  /** Each server in p1 is cut off from p2 and linked to p1; the same for p2. Clerks untouched. */
  partition(p1: readonly number[], p2: readonly number[]): void {
    for (const i of p1) {
      this.disconnect(i, p2);
      this.connect(i, p1);
    }
    for (const i of p2) {
      this.disconnect(i, p1);
      this.connect(i, p2);
    }
  }

  /** The lab's `Leader()`: the first server up whose Raft claims leadership, else `0`. */
  leader(): { readonly found: boolean; readonly leader: number } {
    for (const i of this.all()) {
      if (this.#servers[i]?.raft.getState().isLeader) return { found: true, leader: i };
    }
    return { found: false, leader: 0 };
  }

  /**
   * The lab's `make_partition()`: with l = `leader().leader`, p1 is the n/2+1 lowest-numbered
   * servers other than l, p2 the rest with l last; for n = 5, 3 and 2 with the leader in the
   * minority. (For an even n the lab leaves a stray 0 in p2; here p2 is just the rest.)
   */
  makePartition(): [number[], number[]] {
    const l = this.leader().leader;
    const others = this.all().filter((i) => i !== l);
    const size1 = Math.min(Math.floor(this.n / 2) + 1, others.length);
    return [others.slice(0, size1), [...others.slice(size1), l]];
  }

  /** The lab's `makeClient(to)` with the cluster's clerk factory. */
  makeClient(to: readonly number[] = this.all()): C {
    if (this.#makeClerk === undefined) {
      throw new LabError('makeClient: this cluster has no makeClerk; use makeClientWith');
    }
    return this.makeClientWith(this.#makeClerk, to);
  }

  /**
   * A clerk from `factory` with fresh ends to all n servers, shuffled by the test's seeded
   * random, enabled only toward the servers in `to`.
   */
  makeClientWith<D extends object>(
    factory: ClerkFactory<D>,
    to: readonly number[] = this.all(),
  ): D {
    return this.world.clerks.make(
      this.all().map((j) => this.name(j)),
      to,
      factory,
    );
  }

  /** Enables more of a clerk's ends (indexes are server ids). */
  connectClient(clerk: object, to: readonly number[]): void {
    this.world.clerks.connect(clerk, to);
  }

  disconnectClient(clerk: object, from: readonly number[]): void {
    this.world.clerks.disconnect(clerk, from);
  }

  /** Forgets a clerk and deletes its ends (and closes it, if it can be). */
  deleteClient(clerk: object): void {
    this.world.clerks.delete(clerk);
  }

  /** Clerks for `spawnClients`: each connected to every server, deleted when its task ends. */
  clientPool(): ClientPool<C> {
    return { makeClient: () => this.makeClient(), deleteClient: (c) => this.deleteClient(c) };
  }

  /** The lab's `LogSize()`: the largest saved Raft state (bytes) over all servers. */
  logSize(): number {
    return Math.max(0, ...this.#saved.map((p) => p?.raftStateSize() ?? 0));
  }

  /** The lab's `SnapshotSize()`: the largest saved snapshot (bytes) over all servers. */
  snapshotSize(): number {
    return Math.max(0, ...this.#saved.map((p) => p?.snapshotSize() ?? 0));
  }

  /** Raft state plus snapshot, summed over the servers (shardkv's Challenge1Delete). */
  storageSize(): number {
    return this.#saved.reduce(
      (sum, p) => sum + (p === undefined ? 0 : p.raftStateSize() + p.snapshotSize()),
      0,
    );
  }

  /** RPCs that reached server i's handlers (this incarnation's network server). */
  rpcCount(i: number): number {
    return this.net.getCount(this.name(i));
  }

  /** Closes every server that is up (the lab's cleanup kills them). */
  async cleanup(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const i of this.all()) {
      this.#bump(i);
      const server = this.#servers[i];
      this.#servers[i] = undefined;
      if (server !== undefined) closing.push(server.close());
    }
    await Promise.all(closing);
  }

  #setLinks(i: number, others: readonly number[], enabled: boolean): void {
    this.#index(i);
    for (const j of others) {
      this.#index(j);
      const out = this.#endNames[i]?.[j];
      if (out !== undefined) this.net.enable(out, enabled);
      const incoming = this.#endNames[j]?.[i];
      if (incoming !== undefined) this.net.enable(incoming, enabled);
    }
  }

  #env(i: number, generation: number): ServerEnv {
    const { net, world } = this;
    return {
      clock: world.clock,
      random: world.random.fork(),
      name: this.name(i),
      makeEnd: (serverName) => {
        const name = world.random.string(END_NAME_LENGTH);
        const end = net.makeEnd(name);
        net.connect(name, serverName);
        // A killed incarnation gets an end that never delivers.
        const current = this.#generation[i] === generation;
        net.enable(name, current);
        if (current) this.#madeEnds[i]?.push(name);
        return end;
      },
    };
  }

  /** Handler failures of the live incarnation (bad arguments, throws) fail the test. */
  #rpcLogger(i: number, generation: number): Logger {
    const record = (fields: Record<string, unknown>, message: string): void => {
      if (this.#generation[i] === generation) {
        this.world.recordError(`${this.name(i)}: ${message} ${JSON.stringify(fields)}`);
      }
    };
    return { warn: record, info: () => {} };
  }

  #bump(i: number): number {
    const next = (this.#generation[i] as number) + 1;
    this.#generation[i] = next;
    return next;
  }

  #index(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) {
      throw new RangeError(`no server ${i} in a cluster of ${this.n}`);
    }
    return i;
  }
}

import type { KvClerk } from '@flotilla/linearizability';
import type { Clock, SeededRandom, Sim, SimNetwork } from '@flotilla/transport';
import { ClerkRegistry } from './clerks.js';
import { type ClusterOptions, ServiceCluster } from './cluster.js';
import type { LabServer } from './contract.js';
import { countedClerk } from './counted.js';
import { LabError } from './errors.js';
import { type HistoryCheckOptions, KvHistory } from './history.js';
import { Pacer } from './pacing.js';
import { type EndStats, passedLine } from './stats.js';

export interface WorldOptions {
  /** Where the lab's lines (title, Passed, info) go; default console.log. */
  readonly log?: (line: string) => void;
}

/**
 * One test's world: the simulation's network, clock and the test's own seeded random draws,
 * the clusters on that network (kvraft: one; shardkv: the controller and each replica
 * group), the clerks and their ends, the op and RPC counts, and failures of background work.
 * Every wait is on the virtual clock.
 */
export class World {
  readonly sim: Sim;
  readonly net: SimNetwork;
  readonly clock: Clock;
  /** The test's own random draws (the lab's `rand`), forked from the simulation's. */
  readonly random: SeededRandom;
  readonly clerks: ClerkRegistry;
  readonly #clusters: ServiceCluster<LabServer, object>[] = [];
  readonly #errors: string[] = [];
  readonly #print: (line: string) => void;
  #ops = 0;
  #t0 = 0;
  #rpcs0 = 0;

  constructor(sim: Sim, options: WorldOptions = {}) {
    this.sim = sim;
    this.net = sim.net;
    this.clock = sim.clock;
    this.random = sim.random.fork();
    this.clerks = new ClerkRegistry(this.net, this.clock, this.random);
    this.#print = options.log ?? ((line) => console.log(line));
  }

  /** A cluster on this world's network (not started: `startAll()`, then `connectAll()`). */
  addCluster<S extends LabServer, C extends object = object>(
    options: ClusterOptions<S, C>,
  ): ServiceCluster<S, C> {
    const cluster = new ServiceCluster<S, C>(this, options);
    const names = new Set(this.#clusters.flatMap((c) => c.all().map((i) => c.name(i))));
    for (const i of cluster.all()) {
      if (names.has(cluster.name(i))) {
        throw new LabError(`server name ${cluster.name(i)} is already used in this world`);
      }
    }
    this.#clusters.push(cluster);
    return cluster;
  }

  get clusters(): readonly ServiceCluster<LabServer, object>[] {
    return this.#clusters;
  }

  /** Servers over all clusters (the end-of-test line's peers). */
  get peers(): number {
    return this.#clusters.reduce((sum, c) => sum + c.n, 0);
  }

  /** The lab's `net.Reliable(reliable)`. */
  setReliable(reliable: boolean): void {
    this.net.setReliable(reliable);
  }

  setUnreliable(unreliable: boolean): void {
    this.net.setReliable(!unreliable);
  }

  setLongReordering(longReordering: boolean): void {
    this.net.setLongReordering(longReordering);
  }

  /** Every RPC that entered the network (the lab's `rpcTotal()`). */
  rpcTotal(): number {
    return this.net.getTotalCount();
  }

  /** Clerk operations completed since `begin()` (the lab's `cfg.ops`). */
  get ops(): number {
    return this.#ops;
  }

  /** The lab's `cfg.op()`. */
  countOp(): void {
    this.#ops++;
  }

  /**
   * The lab's Get/Put/Append wrappers: `clerk` with each completed call counted and, given a
   * history, recorded as client `cli`'s.
   */
  counted(clerk: KvClerk, history?: KvHistory, cli = 0): KvClerk {
    const inner = history === undefined ? clerk : history.record(cli, clerk);
    return countedClerk(inner, () => this.countOp());
  }

  /** A fresh history on the virtual clock (the lab's `OpLog`). */
  history(): KvHistory {
    return new KvHistory(this.clock);
  }

  /** `history.check` printing to this world's log. */
  checkHistory(history: KvHistory, options: HistoryCheckOptions = {}): void {
    history.check({ log: this.#print, ...options });
  }

  /** A pacer on the virtual clock and the test's random draws (see pacing.ts). */
  pacer(meanPauseMs?: number): Pacer {
    return new Pacer(this.clock, this.random, meanPauseMs);
  }

  /** Prints the test's title and starts its counters (the lab's `begin`). */
  begin(description: string): void {
    this.#print(`${description} ...`);
    this.#t0 = this.clock.now();
    this.#rpcs0 = this.rpcTotal();
    this.#ops = 0;
  }

  /** The numbers of the end-of-test line, so far. */
  stats(): EndStats {
    return {
      seconds: (this.clock.now() - this.#t0) / 1000,
      peers: this.peers,
      rpcs: this.rpcTotal() - this.#rpcs0,
      ops: this.#ops,
    };
  }

  /**
   * Fails on a pending background failure, else prints the lab's Passed line. (The 120 s limit
   * needs no check here: `simulateTest` fails the run the moment virtual time passes it.)
   */
  end(): void {
    this.checkErrors();
    this.#print(passedLine(this.stats()));
  }

  log(line: string): void {
    this.#print(line);
  }

  /** Sleeps `ms` of virtual time, then fails if background work failed meanwhile. */
  async sleep(ms: number): Promise<void> {
    await this.sim.sleep(ms);
    this.checkErrors();
  }

  /** Fails the test (the lab's `t.Fatalf`). */
  fatal(message: string): never {
    throw new LabError(message);
  }

  /** Notes a failure of background work; the next `checkErrors` (sleep, end) throws it. */
  recordError(message: string): void {
    this.#errors.push(message);
  }

  checkErrors(): void {
    const err = this.#errors[0];
    if (err !== undefined) throw new LabError(err);
  }

  /**
   * Runs `task` concurrently (the lab's `go func`). The promise never rejects: a failure is
   * recorded and fails the test at its next check; `undefined` stands for the value.
   */
  go<T>(task: () => Promise<T>): Promise<T | undefined> {
    const record = (err: unknown): undefined => {
      this.recordError(err instanceof Error ? err.message : String(err));
      return undefined;
    };
    try {
      return task().catch(record);
    } catch (err) {
      return Promise.resolve(record(err)); // a task that threw before its first await
    }
  }

  /** The lab's cleanup: clerks closed, then every server that is up (shutdown order). */
  async cleanup(): Promise<void> {
    await this.clerks.closeAll();
    for (const cluster of this.#clusters) await cluster.cleanup();
  }
}

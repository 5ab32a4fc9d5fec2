import {
  checkLogs,
  ctrlerServerName,
  groupServerName,
  type KvClerk,
  type KvHistory,
  type LabServer,
  type ServerEnv,
  type ServerNaming,
  type ServiceCluster,
  type StartServer,
  type World,
  withWorld,
} from '@flotilla/labkit';
import { Clerk as CtrlerClerk, startShardCtrler } from '@flotilla/shardctrler';
import { type Sim, type SimulationReport, silentLogger, simulateTest } from '@flotilla/transport';
import { Clerk, type ShardKv, startShardKv } from '../../src/index.js';

/** The lab's three groups and their gids (`100 + gi`). */
export const NGROUPS = 3;
export const GID_BASE = 100;
/** Servers per controller and per group. */
export const NCTRLERS = 3;
export const NSERVERS = 3;

export interface CtrlerLabServer extends LabServer {}

export interface ShardKvLabServer extends LabServer {
  readonly kv: ShardKv;
}

/** What a harness may wrap around a server's services (the scaling bench: a CPU model). */
export type WrapServices = (
  services: LabServer['services'],
  env: ServerEnv,
) => LabServer['services'];

const asIs: WrapServices = (services) => services;

/** The controller's `StartServer` on labkit's contract. */
export function startCtrlerServer(wrap: WrapServices = asIs): StartServer<CtrlerLabServer> {
  return async (ends, me, persister, _max, env) => {
    const ctrler = await startShardCtrler({
      peers: ends,
      me,
      persister,
      clock: env.clock,
      random: env.random,
      logger: silentLogger,
    });
    return {
      services: wrap(ctrler.services, env),
      raft: ctrler.raft,
      kill: () => ctrler.kill(),
      close: () => ctrler.close(),
    };
  };
}

/** The lab's `StartServer(gi, i)`: the group's peers, fresh ends to the controller, `make_end`. */
export function startGroupServer(
  gid: number,
  ctrlerNames: readonly string[],
  wrap: WrapServices = asIs,
): StartServer<ShardKvLabServer> {
  return async (ends, me, persister, maxraftstate, env) => {
    const kv = await startShardKv({
      gid,
      peers: ends,
      me,
      persister,
      maxraftstate,
      ctrlers: ctrlerNames.map((name) => env.makeEnd(name)),
      makeEnd: (name) => env.makeEnd(name),
      clock: env.clock,
      random: env.random,
      logger: silentLogger,
    });
    return {
      kv,
      services: wrap(kv.services, env),
      raft: kv.raft,
      kill: () => kv.kill(),
      close: () => kv.close(),
    };
  };
}

type CtrlerCluster = ServiceCluster<CtrlerLabServer, CtrlerClerk>;
type Group = ServiceCluster<ShardKvLabServer>;

/**
 * The lab's shardkv `config`: a controller of 3 on its own, 3 groups of `n` servers (gids
 * 100–102, started but not joined), the controller clerk `mck`, on one network.
 */
export class ShardKvConfig {
  readonly world: World;
  readonly ctrler: CtrlerCluster;
  readonly groups: readonly Group[];
  readonly n: number;
  readonly mck: CtrlerClerk;
  /** Every operation of every clerk `makeClient` made, checked for linearizability at the end. */
  readonly history: KvHistory;
  #nextCli = 0;

  private constructor(world: World, ctrler: CtrlerCluster, groups: readonly Group[], n: number) {
    this.world = world;
    this.ctrler = ctrler;
    this.groups = groups;
    this.n = n;
    this.mck = ctrler.makeClient();
    this.history = world.history();
  }

  static async make(world: World, n: number, unreliable: boolean, maxraftstate: number) {
    const ctrler = addCtrler(world, ctrlerServerName);
    await ctrler.startAll();
    ctrler.connectAll();
    const ctrlerNames = ctrler.all().map((i) => ctrler.name(i));
    const groups: Group[] = [];
    for (let gi = 0; gi < NGROUPS; gi++) {
      const gid = GID_BASE + gi;
      const group = world.addCluster<ShardKvLabServer>({
        n,
        maxraftstate,
        serverName: groupServerName(gid),
        startServer: startGroupServer(gid, ctrlerNames),
      });
      groups.push(group);
      for (const i of group.all()) await group.startServer(i);
      group.connectAll();
    }
    world.setUnreliable(unreliable);
    return new ShardKvConfig(world, ctrler, groups, n);
  }

  gid(gi: number): number {
    return GID_BASE + gi;
  }

  /** The group `gi`'s server names, as a Join gives them. */
  serverNames(gi: number): string[] {
    const group = this.groups[gi] as Group;
    return group.all().map((i) => group.name(i));
  }

  /**
   * The lab's `makeClient()`: a shardkv clerk on the controller's ends and `make_end`, its
   * operations counted and recorded in `history` as a client of its own.
   */
  makeClient(ctrler: CtrlerCluster = this.ctrler): KvClerk {
    const clerk = ctrler.makeClientWith(
      (ends, env) =>
        new Clerk(ends, (name) => env.makeEnd(name), { clock: env.clock, random: env.random }),
    );
    return this.world.counted(clerk, this.history, this.#nextCli++);
  }

  join(gi: number): Promise<number> {
    return this.joinm([gi]);
  }

  joinm(gis: readonly number[], mck: CtrlerClerk = this.mck): Promise<number> {
    return mck.join(Object.fromEntries(gis.map((gi) => [this.gid(gi), this.serverNames(gi)])));
  }

  leave(gi: number): Promise<number> {
    return this.leavem([gi]);
  }

  leavem(gis: readonly number[], mck: CtrlerClerk = this.mck): Promise<number> {
    return mck.leave(gis.map((gi) => this.gid(gi)));
  }

  async startServer(gi: number, i: number): Promise<void> {
    const group = this.groups[gi] as Group;
    await group.startServer(i);
    group.connect(i, group.all());
  }

  shutdownServer(gi: number, i: number): void {
    (this.groups[gi] as Group).shutdownServer(i);
  }

  async startGroup(gi: number): Promise<void> {
    const group = this.groups[gi] as Group;
    await group.startAll();
    group.connectAll();
  }

  shutdownGroup(gi: number): void {
    (this.groups[gi] as Group).shutdownAll();
  }

  /** The lab's `checklogs()`. */
  checkLogs(): void {
    checkLogs(this.groups);
  }

  /** Raft state plus snapshot, summed over every server of every group (Challenge1Delete). */
  totalStorage(): number {
    let total = 0;
    for (const group of this.groups) {
      for (const i of group.all()) {
        const p = group.persister(i);
        total += (p?.raftStateSize() ?? 0) + (p?.snapshotSize() ?? 0);
      }
    }
    return total;
  }

  /** A second, separate controller (Rejection5A): started and connected, nothing joined. */
  async startSecondCtrler(): Promise<{ cluster: CtrlerCluster; mck: CtrlerClerk }> {
    const cluster = addCtrler(this.world, (i) => `ctrler2-${i}`);
    await cluster.startAll();
    cluster.connectAll();
    return { cluster, mck: cluster.makeClient() };
  }
}

function addCtrler(world: World, serverName: ServerNaming): CtrlerCluster {
  return world.addCluster<CtrlerLabServer, CtrlerClerk>({
    n: NCTRLERS,
    maxraftstate: -1,
    serverName,
    startServer: startCtrlerServer(),
    makeClerk: (ends, env) => new CtrlerClerk(ends, { clock: env.clock, random: env.random }),
  });
}

export interface LabRunOptions {
  /** Default: `simulateTest`'s, from the test's name (or FLOTILLA_SEED). */
  readonly seed?: number;
  /** Print neither the lab's lines nor the timing line. */
  readonly quiet?: boolean;
}

const silent = (): void => {};

/**
 * One lab test: shardkv's `make_config(t, n, unreliable, maxraftstate)` and `defer cleanup()`
 * in virtual time, failing past 120 s of it (`simulateTest`), seeded by `run.seed`.
 */
export async function runShardKvTest(
  name: string,
  run: LabRunOptions,
  config: { readonly n: number; readonly unreliable: boolean; readonly maxraftstate: number },
  body: (cfg: ShardKvConfig, sim: Sim) => Promise<void>,
): Promise<SimulationReport<void>> {
  const started = performance.now();
  const log = run.quiet === true ? { log: silent } : {};
  const report = await simulateTest(
    name,
    (sim) =>
      withWorld(sim, log, async (world) => {
        const cfg = await ShardKvConfig.make(
          world,
          config.n,
          config.unreliable,
          config.maxraftstate,
        );
        await body(cfg, sim);
        world.checkErrors();
        world.checkHistory(cfg.history);
      }),
    { seed: run.seed },
  );
  if (run.quiet !== true) {
    const wall = ((performance.now() - started) / 1000).toFixed(1);
    const virtual = (report.virtualMs / 1000).toFixed(1);
    console.log(`${name}: wall ${wall} s, virtual ${virtual} s, ${report.rpcs} RPCs`);
  }
  return report;
}

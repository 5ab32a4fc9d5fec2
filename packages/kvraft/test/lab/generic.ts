import {
  checkClntAppends,
  checkLogSizes,
  collectClients,
  ELECTION_TIMEOUT_MS,
  GENERIC_CLIENT_RUN_MS,
  GENERIC_ITERATIONS,
  genericClient,
  LabError,
  PARTITIONER_WARMUP_MS,
  type Partitioner,
  SPEED_OPS,
  spawnClients,
  speedLimitMs,
  startPartitioner,
} from '@flotilla/labkit';
import type { SimulationReport } from '@flotilla/transport';
import { type KvConfig, type LabRunOptions, runKvTest } from './config.js';

export type Part = '4A' | '4B';

/**
 * The mean pause after a client turn that took no virtual time (labkit's `Pacer`), for
 * kvraft: 15 ms, about the lab's own rate. On the reliable simulated network a Raft commit
 * takes no virtual time, so with labkit's default 2 ms (kvsrv's figure) each of 5 clients
 * did ~480 ops/s: 36,000 ops in TestConcurrent4A, 145,000 in TestSnapshotRecoverManyClients4B
 * (112 s of wall time), and every reliable GenericTest's 1 s linearizability check ended
 * Unknown, i.e. unchecked. The lab handout's sample output shows ~60 ops/s for one client
 * (903 ops in 15.5 s, TestBasic4A) and the unreliable tests here already run at that rate;
 * 15 ms (≤ ~67 ops/s per client) matches it, so the checks finish. The lab's numbers
 * (clients, servers, 5 s runs, iterations) are unchanged.
 */
export const KV_OP_PAUSE_MS = 15;

export interface GenericOptions {
  readonly part: Part;
  readonly nclients: number;
  readonly nservers: number;
  readonly unreliable: boolean;
  readonly crash: boolean;
  readonly partitions: boolean;
  readonly maxraftstate: number;
  readonly randomkeys: boolean;
}

/** GenericTest's arguments, in the lab's order (part, nclients, nservers, unreliable, crash, partitions, maxraftstate, randomkeys). */
export function genericArgs(
  part: Part,
  nclients: number,
  nservers: number,
  unreliable: boolean,
  crash: boolean,
  partitions: boolean,
  maxraftstate: number,
  randomkeys: boolean,
): GenericOptions {
  return { part, nclients, nservers, unreliable, crash, partitions, maxraftstate, randomkeys };
}

/** GenericTest's title, built exactly as the lab's. */
export function genericTitle(o: GenericOptions): string {
  let title = 'Test: ';
  if (o.unreliable) title += 'unreliable net, ';
  if (o.crash) title += 'restarts, ';
  if (o.partitions) title += 'partitions, ';
  if (o.maxraftstate !== -1) title += 'snapshots, ';
  if (o.randomkeys) title += 'random keys, ';
  title += o.nclients > 1 ? 'many clients' : 'one client';
  return `${title} (${o.part})`;
}

/**
 * The lab's GenericTest: 3 iterations of clients running 5 s (after a 1 s warm-up with the
 * partitioner), heal, crash and restart every server, collect and check each client's appends,
 * check log or snapshot sizes; then the whole history must be linearizable.
 */
export function genericTest(
  name: string,
  o: GenericOptions,
  run: LabRunOptions = {},
): Promise<SimulationReport<void>> {
  const config = { n: o.nservers, unreliable: o.unreliable, maxraftstate: o.maxraftstate };
  return runKvTest(name, run, config, async (cfg) => {
    const { world } = cfg;
    world.begin(genericTitle(o));
    const history = world.history();
    const ck = world.counted(cfg.makeClient(), history, 0);
    for (let it = 0; it < GENERIC_ITERATIONS; it++) {
      let done = false;
      const pacer = world.pacer(KV_OP_PAUSE_MS);
      const clients = spawnClients(cfg.clientPool(), o.nclients, (cli, clerk) =>
        genericClient({
          cli,
          clerk: world.counted(clerk, history, cli),
          nclients: o.nclients,
          randomkeys: o.randomkeys,
          random: world.random,
          pacer,
          done: () => done,
        }),
      );
      let partitioner: Partitioner | undefined;
      if (o.partitions) {
        // Allow the clients to perform some operations without interruption.
        await world.sleep(PARTITIONER_WARMUP_MS);
        partitioner = startPartitioner(cfg, world.random, world.clock);
      }
      await world.sleep(GENERIC_CLIENT_RUN_MS);
      done = true;
      if (partitioner !== undefined) {
        await partitioner.stop();
        cfg.connectAll();
        // Wait for a while so that we have a new term: requests stuck in a minority resolve.
        await world.sleep(ELECTION_TIMEOUT_MS);
      }
      if (o.crash) {
        cfg.shutdownAll();
        // Wait for a while so that servers really shut down.
        await world.sleep(ELECTION_TIMEOUT_MS);
        await cfg.startAll();
        cfg.connectAll();
      }
      await collectClients(ck, clients, o.randomkeys);
      checkLogSizes(cfg);
    }
    world.checkHistory(history);
    world.end();
  });
}

/**
 * The lab's GenericTestSpeed: 3 reliable servers, one clerk; after a first Get, 1,000
 * sequential Appends must take at most 1,000 × 33,333,333 ns (3 per 100 ms heartbeat).
 */
export function genericTestSpeed(
  name: string,
  part: Part,
  maxraftstate: number,
  run: LabRunOptions = {},
): Promise<SimulationReport<void>> {
  return runKvTest(name, run, { n: 3, unreliable: false, maxraftstate }, async (cfg) => {
    const { world } = cfg;
    world.begin(`Test: ops complete fast enough (${part})`);
    const ck = world.counted(cfg.makeClient());
    // Wait until first op completes, so we know a leader is elected and KV servers are ready.
    await ck.get('x');
    const start = world.clock.now();
    for (let i = 0; i < SPEED_OPS; i++) await ck.append('x', `x 0 ${i} y`);
    const dur = world.clock.now() - start;
    const v = await ck.get('x');
    checkClntAppends(0, v, SPEED_OPS);
    if (dur > speedLimitMs()) {
      throw new LabError(
        `Operations completed too slowly ${((dur * 1e6) / SPEED_OPS).toFixed(0)} ns/op > ${speedLimitMs() * 1e3} ns/op`,
      );
    }
    world.log(`  ${SPEED_OPS} appends in ${(dur / 1000).toFixed(3)} s of virtual time`);
    checkLogSizes(cfg);
    world.end();
  });
}

export type { KvConfig };

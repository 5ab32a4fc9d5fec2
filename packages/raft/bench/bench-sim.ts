/**
 * Setup 1 of raft-bench.ts: three RaftNodes in this process on a reliable SimNetwork with
 * MemoryPersisters, in real time. The network and the nodes get the real clock, so this is
 * the code path of the tests (every RPC encoded, delivered through `clock.setTimeout(…, 0)`,
 * decoded) at wall-clock speed; the only thing missing is a disk and a socket.
 */

import path from 'node:path';
import { WindowProfiler } from '@flotilla/devkit/bench/profile';
import { poll } from '@flotilla/devkit/time/within';
import {
  type Clock,
  RpcServer,
  realClock,
  SeededRandom,
  SimNetwork,
  silentLogger,
} from '@flotilla/transport';
import { MemoryPersister, RaftNode } from '../src/index.js';
import {
  ApplyWaiter,
  type Counters,
  closedLoop,
  countingEnd,
  countingPersister,
  diffCounters,
  type LoopResult,
  makeCommand,
  newCounters,
  type RaftKnobs,
  type Warmup,
} from './bench-common.js';

export interface SimLevelResult extends LoopResult {
  readonly concurrency: number;
  /** CPU of this one process (all three nodes, the network and the clients), % of one core. */
  readonly cpuPct: number;
  /** That CPU time divided by the commits. */
  readonly cpuUsPerCommit: number;
  readonly leader: number;
  /** What each server did in the measured window (index = server id). */
  readonly counters: readonly Counters[];
}

const N = 3;

export type SimClockKind = 'real' | 'immediate';

/**
 * `realClock` with zero-delay timers run by setImmediate instead of setTimeout (which Node
 * clamps to 1 ms): a diagnostic that takes the timer granularity out of the SimNetwork hop.
 */
const immediateClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) =>
    delayMs <= 0 ? { immediate: setImmediate(callback) } : setTimeout(callback, delayMs),
  clearTimeout: (timer) => {
    const t = timer as { immediate?: NodeJS.Immediate };
    if (t !== null && typeof t === 'object' && t.immediate !== undefined)
      clearImmediate(t.immediate);
    else clearTimeout(timer as ReturnType<typeof setTimeout>);
  },
};

/**
 * Each level gets a fresh cluster (a new network, nodes and persisters), so a level does not
 * inherit the log the previous one built.
 */
export async function runSim(
  levels: readonly number[],
  warmup: Warmup,
  measureMs: number,
  seed: number,
  knobs: RaftKnobs,
  clockKind: SimClockKind,
  profileDir: string | undefined,
  profileTag = 'sim',
): Promise<SimLevelResult[]> {
  const results: SimLevelResult[] = [];
  for (const [k, c] of levels.entries()) {
    const profileFile =
      profileDir === undefined ? undefined : path.join(profileDir, `${profileTag}-c${c}`);
    results.push(
      await runSimLevel(c, warmup, measureMs, seed * 1000 + k, knobs, clockKind, profileFile),
    );
  }
  return results;
}

async function runSimLevel(
  c: number,
  warmup: Warmup,
  measureMs: number,
  seed: number,
  knobs: RaftKnobs,
  clockKind: SimClockKind,
  profileFile: string | undefined,
): Promise<SimLevelResult> {
  const clock = clockKind === 'real' ? realClock : immediateClock;
  const random = new SeededRandom(seed);
  const net = new SimNetwork({ clock, random: random.fork() });
  const nodes: RaftNode[] = [];
  const counters = Array.from({ length: N }, newCounters);
  try {
    for (let i = 0; i < N; i++) {
      const mine = counters[i] as Counters;
      const ends = Array.from({ length: N }, (_, j) => {
        const name = `${i}->${j}`;
        const end = net.makeEnd(name);
        net.connect(name, String(j));
        net.enable(name, true);
        return countingEnd(end, mine);
      });
      const node = await RaftNode.create({
        me: i,
        peers: ends,
        persister: countingPersister(new MemoryPersister(), mine),
        clock,
        random: random.fork(),
        ...knobs,
      });
      nodes.push(node);
      net.addServer(
        String(i),
        new RpcServer({ logger: silentLogger }).addService('Raft', node.service),
      );
    }
    const leaderOf = (): RaftNode | undefined => nodes.find((n) => n.getState().isLeader);
    let leader = await poll('a leader in the simulated cluster', leaderOf, {
      timeoutMs: 10_000,
      everyMs: 10,
    });
    let waiter = new ApplyWaiter(leader);
    let cpu0 = process.cpuUsage();
    let cpu = cpu0;
    let before: Counters[] = [];
    let after: Counters[] = [];
    const profiler = new WindowProfiler();
    const loop = await closedLoop({
      concurrency: c,
      warmup,
      measureMs,
      propose: async (client, seq) => {
        const outcome = await waiter.propose(makeCommand(client, seq));
        if (outcome.ok) return true;
        const next = leaderOf();
        if (next !== undefined && next !== leader) {
          waiter.close();
          leader = next;
          waiter = new ApplyWaiter(next);
        }
        return false;
      },
      beforeMeasure: async () => {
        if (profileFile !== undefined) await profiler.start();
        before = counters.map((k) => ({ ...k }));
        cpu0 = process.cpuUsage();
      },
      afterMeasure: async (window) => {
        cpu = process.cpuUsage(cpu0);
        after = counters.map((k) => ({ ...k }));
        if (profileFile !== undefined) {
          await profiler.stop(profileFile, { ...window, setup: 'sim', concurrency: c });
        }
      },
    });
    waiter.close();
    const cpuPct = ((cpu.user + cpu.system) / 1e6 / loop.seconds) * 100;
    return {
      ...loop,
      concurrency: c,
      cpuPct,
      cpuUsPerCommit: loop.commits > 0 ? (cpuPct / 100 / loop.commitsPerSecond) * 1e6 : Number.NaN,
      leader: nodes.indexOf(leader),
      counters: after.map((a, i) => diffCounters(before[i] as Counters, a)),
    };
  } finally {
    for (const node of nodes) node.kill();
    net.cleanup();
  }
}

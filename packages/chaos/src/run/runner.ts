import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, realClock, SeededRandom } from '@flotilla/transport';
import { configError } from '../errors.js';
import { LinkMap } from '../link-map.js';
import { Supervisor } from '../supervisor.js';
import { freePorts } from './ports.js';
import {
  describeEpisode,
  type Episode,
  FAULT_KINDS,
  type FaultKind,
  faultSchedule,
  PARTITION_KINDS,
  type ScheduleOptions,
} from './schedule.js';
import type { ChaosChurn, ChaosNetwork, ChaosTarget } from './target.js';
import { longestGap, type Verdict, verify } from './verify.js';
import { sleep, Workload } from './workload.js';

export interface ChaosRunOptions {
  readonly target: ChaosTarget;
  /** Seeds the fault schedule and the clerks' choices (printed; `--seed` replays the faults). */
  readonly seed: number;
  /** How long to inject faults; at most an hour. */
  readonly durationMs: number;
  /** Stop after this many episodes even if time is left. */
  readonly maxEpisodes?: number;
  readonly clerks?: number;
  readonly keys?: number;
  /** Data dirs go under it (`<cluster>-<i>`). */
  readonly baseDir: string;
  /** Where the HTML history goes on a violation (default `baseDir`). */
  readonly outDir?: string;
  readonly weights?: ScheduleOptions['weights'];
  readonly holdMs?: ScheduleOptions['holdMs'];
  readonly gapMs?: ScheduleOptions['gapMs'];
  /** How long a server may take to print its ready line (default 60 s). */
  readonly startTimeoutMs?: number;
  /** The checker's time limit (default 60 s; `unknown` past it). */
  readonly checkTimeLimitMs?: number;
  /** Progress lines: the seed, each episode, the end. */
  readonly log?: (line: string) => void;
  readonly clock?: Clock;
}

export interface ChaosSummary extends Verdict {
  readonly target: string;
  readonly seed: number;
  /** Server processes, every cluster's together. */
  readonly servers: number;
  readonly clerks: number;
  readonly elapsedMs: number;
  readonly episodes: number;
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Partition-like episodes: partition, isolate, one-way, bridge. */
  readonly partitions: number;
  /** What the target's churn changed meanwhile (shardkv: joins, leaves, moves). */
  readonly changes: Readonly<Record<string, number>>;
  readonly operations: number;
  readonly acknowledged: number;
  /** The longest time, while faults ran, in which no operation completed. */
  readonly longestUnavailableMs: number;
  /** Servers that exited without being told to. */
  readonly unexpectedExits: readonly string[];
  /** Errors the clerks could not retry past. */
  readonly clerkErrors: readonly string[];
  /** True iff linearizable (or undecided in time), nothing lost, no crash, no clerk error. */
  readonly ok: boolean;
}

const MAX_DURATION_MS = 60 * 60 * 1000;
const FINAL_READ_TIMEOUT_MS = 60_000;

/**
 * One chaos run against real server processes on loopback: start `servers` replicas, each
 * reaching the others through a fault proxy per link (`LinkMap`), run `clerks` recorded clerks,
 * and play the seeded fault schedule — SIGKILL and restart on the same data dir, SIGSTOP and
 * SIGCONT, partitions of every shape, slow and lossy links — one episode at a time until
 * `durationMs` is up. Then undo every fault, read every key, and check the history and every
 * acknowledged write. Every process it started is ended by pid before it returns or throws.
 */
export async function runChaos(options: ChaosRunOptions): Promise<ChaosSummary> {
  const clerks = options.clerks ?? 5;
  const keys = options.keys ?? 3;
  checkCount('clerks', clerks, 1, 100);
  checkCount('keys', keys, 1, 100);
  if (!(options.durationMs >= 0 && options.durationMs <= MAX_DURATION_MS)) {
    throw configError(
      'durationMs',
      `must be between 0 and ${MAX_DURATION_MS}, got ${options.durationMs}`,
    );
  }
  const { target } = options;
  const { clusters } = target;
  for (const [c, cluster] of clusters.entries()) {
    checkCount(`clusters[${c}].size`, cluster.size, 1, 9);
  }
  const clock = options.clock ?? realClock;
  const log = options.log ?? (() => {});
  const random = new SeededRandom(options.seed);
  const started = clock.now();
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const servers = clusters.reduce((sum, c) => sum + c.size, 0);
  log(
    `chaos ${target.name}: seed ${options.seed}, ${clusters.map((c) => `${c.name} ×${c.size}`).join(', ')}, ${clerks} clerks, ${options.durationMs} ms`,
  );

  const supervisor = new Supervisor({ clock });
  const maps: LinkMap[] = [];
  const unexpectedExits: string[] = [];
  supervisor.onExit((exit) => {
    if (!exit.expected) {
      unexpectedExits.push(
        `${exit.name}#${exit.generation} exited (code ${exit.code}, signal ${exit.signal})`,
      );
    }
  });
  const name = (c: number, i: number): string => `${clusters[c]?.name}-${i}`;
  const ready = (c: number, i: number) =>
    supervisor.waitForOutput(name(c, i), target.ready, startTimeoutMs);
  let churn: ChaosChurn | undefined;
  try {
    for (const cluster of clusters) {
      const urls = (await freePorts(cluster.size)).map((port) => `ws://127.0.0.1:${port}`);
      maps.push(await LinkMap.start({ targets: urls, random: random.fork() }));
    }
    const byName = new Map(clusters.map((c, i) => [c.name, maps[i] as LinkMap]));
    const net: ChaosNetwork = {
      clientUrls: (cluster) => {
        const map = byName.get(cluster);
        if (map === undefined) throw configError('cluster', `${cluster} is not a cluster`);
        return map.clientUrls();
      },
    };
    for (const [c, cluster] of clusters.entries()) {
      const map = maps[c] as LinkMap;
      for (let i = 0; i < cluster.size; i++) {
        const dir = join(options.baseDir, name(c, i));
        mkdirSync(dir, { recursive: true });
        supervisor.spawn(name(c, i), cluster.serverSpec(i, map.peerUrlsFor(i), dir, net));
      }
    }
    await Promise.all(
      clusters.flatMap((cluster, c) => Array.from({ length: cluster.size }, (_, i) => ready(c, i))),
    );
    await target.setup?.(net);

    const workload = new Workload({
      clerks,
      keys,
      random: random.fork(),
      clock,
      connect: () => target.connect(net),
    });
    workload.start();
    churn = target.churn?.(net, random.fork(), clock);
    const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    const from = workload.now();
    let episodes = 0;
    const schedule = faultSchedule(random.fork(), {
      clusters: clusters.map((c) => c.size),
      ...(options.weights === undefined ? {} : { weights: options.weights }),
      ...(options.holdMs === undefined ? {} : { holdMs: options.holdMs }),
      ...(options.gapMs === undefined ? {} : { gapMs: options.gapMs }),
    });
    const clusterNames = clusters.map((c) => c.name);
    while (
      clock.now() - started < options.durationMs &&
      episodes < (options.maxEpisodes ?? Number.POSITIVE_INFINITY)
    ) {
      const episode = schedule.next().value as Episode;
      log(describeEpisode(episode, clusterNames));
      const c = episode.cluster;
      await play(episode, {
        supervisor,
        links: maps[c] as LinkMap,
        clock,
        ready: (i) => ready(c, i),
        name: (i) => name(c, i),
      });
      faults[episode.fault.kind]++;
      episodes++;
      // A server that died on its own is brought back, so the run goes on; it still fails.
      for (const [k, cluster] of clusters.entries()) {
        for (let i = 0; i < cluster.size; i++) {
          if (supervisor.state(name(k, i)) === 'exited') {
            await supervisor.restart(name(k, i));
            await ready(k, i);
          }
        }
      }
      await sleep(clock, episode.gapMs);
    }
    const to = workload.now();
    await churn?.stop();
    await workload.stop();

    const clerk = target.connect(net);
    let verdict: Verdict;
    try {
      verdict = await verify(workload, clerk, {
        keys,
        clientId: clerks,
        readTimeoutMs: FINAL_READ_TIMEOUT_MS,
        timeLimitMs: options.checkTimeLimitMs ?? 60_000,
        clock,
        outDir: options.outDir ?? options.baseDir,
      });
    } finally {
      await clerk.close();
    }
    const partitions = FAULT_KINDS.filter((k) => PARTITION_KINDS.has(k)).reduce(
      (sum, k) => sum + faults[k],
      0,
    );
    const churnErrors = churn?.errors ?? [];
    return {
      ...verdict,
      target: target.name,
      seed: options.seed,
      servers,
      clerks,
      elapsedMs: clock.now() - started,
      episodes,
      faults,
      partitions,
      changes: { ...churn?.changes },
      operations: workload.operations,
      acknowledged: workload.completions.length,
      longestUnavailableMs: Math.round(longestGap(workload.completions, from, to)),
      unexpectedExits,
      clerkErrors: [...workload.errors, ...churnErrors],
      ok:
        verdict.outcome !== 'illegal' &&
        verdict.lostWrites === 0 &&
        verdict.duplicates === 0 &&
        verdict.phantoms === 0 &&
        verdict.unanswered.length === 0 &&
        unexpectedExits.length === 0 &&
        workload.errors.length === 0 &&
        churnErrors.length === 0,
    };
  } finally {
    await churn?.stop().catch(() => {});
    await supervisor.stopAll();
    await Promise.all(maps.map((map) => map.close()));
  }
}

interface Stage {
  readonly supervisor: Supervisor;
  readonly links: LinkMap;
  readonly clock: Clock;
  readonly ready: (i: number) => Promise<unknown>;
  readonly name: (i: number) => string;
}

/** Applies the episode's fault, holds it, and undoes it. */
async function play(episode: Episode, stage: Stage): Promise<void> {
  const { supervisor, links, clock, ready, name } = stage;
  const n = links.n;
  const f = episode.fault;
  switch (f.kind) {
    case 'kill':
      await supervisor.kill(name(f.server));
      await sleep(clock, episode.holdMs);
      await supervisor.restart(name(f.server));
      await ready(f.server);
      return;
    case 'pause':
      supervisor.pause(name(f.server));
      await sleep(clock, episode.holdMs);
      supervisor.resume(name(f.server));
      return;
    case 'partition':
      links.partition(f.groups);
      break;
    case 'isolate':
      links.isolate(f.server);
      break;
    case 'one-way':
      links.oneWay(f.from, f.to);
      break;
    case 'bridge':
      links.bridge(f.a, f.b, f.via);
      break;
    case 'slow':
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i !== j) {
            links.setLinkFaults(i, j, {
              both: { delayMs: f.delayMs, drop: f.drop, duplicate: 0.02, reorder: 0.05 },
            });
          }
        }
      }
      break;
    default: {
      const unreachable: never = f;
      throw new TypeError(`unknown fault ${JSON.stringify(unreachable)}`);
    }
  }
  await sleep(clock, episode.holdMs);
  links.heal();
}

function checkCount(option: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw configError(option, `must be an integer from ${min} to ${max}, got ${value}`);
  }
}

import { connectClerk as connectCtrler, gidsOf, NSHARDS } from '@flotilla/shardctrler';
import { connectClerk } from '@flotilla/shardkv';
import { type Clock, type Random, silentLogger } from '@flotilla/transport';
import type { ProcessSpec } from '../managed-process.js';
import { serverEnv } from './kvraft-target.js';
import type { ChaosChurn, ChaosCluster, ChaosNetwork, ChaosTarget } from './target.js';
import { sleep } from './workload.js';

export interface ShardkvTargetOptions {
  /** How to run `flotilla-shardctrler` (the arguments of `serve` are appended). */
  readonly ctrlerCommand: ProcessSpec;
  /** How to run `flotilla-shardkv` (the arguments of `serve` are appended). */
  readonly shardkvCommand: ProcessSpec;
  readonly authToken: string;
  /** Replica groups, gids 100, 101, … (default 3); the first two are joined at the start. */
  readonly groups?: number;
  /** Replicas of each group and of the controller (default 3). */
  readonly replicas?: number;
  /** Snapshot threshold (bytes) of every replica. */
  readonly maxraftstate?: number;
  /** The pause between two configuration changes: uniform in [min, max] ms. */
  readonly churnMs?: readonly [number, number];
}

const FIRST_GID = 100;
const CTRLER = 'ctrler';

/**
 * shardkv (`flotilla-shardkv serve`) on a controller (`flotilla-shardctrler serve`): one
 * cluster `ctrler` and one per group, `g100`, `g101`, …, every one behind its own link map.
 * Groups join under their client proxies' URLs, so other groups pull shards through the same
 * proxies the clerks use. While the clerks run, a churn loop joins, leaves and moves shards, so
 * the faults land on shards in flight.
 */
export function shardkvTarget(options: ShardkvTargetOptions): ChaosTarget {
  const {
    authToken,
    groups = 3,
    replicas = 3,
    maxraftstate = 64 * 1024,
    churnMs = [500, 2000],
  } = options;
  const gids = Array.from({ length: groups }, (_, g) => FIRST_GID + g);
  const common = (command: ProcessSpec, dataDir: string): ProcessSpec => ({
    ...command,
    env: serverEnv(command),
    args: [...(command.args ?? []), 'serve', '--data-dir', dataDir, '--auth-token', authToken],
  });
  const withArgs = (spec: ProcessSpec, more: readonly string[]): ProcessSpec => ({
    ...spec,
    args: [...(spec.args ?? []), ...more, '--maxraftstate', String(maxraftstate)],
  });
  const ctrler: ChaosCluster = {
    name: CTRLER,
    size: replicas,
    serverSpec: (id, peers, dataDir) =>
      withArgs(common(options.ctrlerCommand, dataDir), [
        '--id',
        String(id),
        '--peers',
        peers.join(','),
      ]),
  };
  const groupClusters = gids.map(
    (gid): ChaosCluster => ({
      name: `g${gid}`,
      size: replicas,
      serverSpec: (id, peers, dataDir, net) =>
        withArgs(common(options.shardkvCommand, dataDir), [
          ...['--gid', String(gid), '--id', String(id)],
          ...['--peers', peers.join(','), '--ctrlers', net.clientUrls(CTRLER).join(',')],
        ]),
    }),
  );
  const ctrlerClerk = (net: ChaosNetwork) =>
    connectCtrler(net.clientUrls(CTRLER), { authToken, logger: silentLogger });
  const servers = (net: ChaosNetwork, gid: number) => net.clientUrls(`g${gid}`);
  return {
    name: 'shardkv',
    ready: /^listening ws:\/\/\S+$/,
    clusters: [ctrler, ...groupClusters],
    async setup(net) {
      const clerk = ctrlerClerk(net);
      try {
        const first = gids.slice(0, Math.min(2, gids.length));
        await clerk.join(Object.fromEntries(first.map((gid) => [gid, servers(net, gid)])));
      } finally {
        await clerk.close();
      }
    },
    connect: (net) => connectClerk(net.clientUrls(CTRLER), { authToken, logger: silentLogger }),
    churn: (net, random, clock) =>
      startChurn({
        clerk: ctrlerClerk(net),
        gids,
        servers: (gid) => servers(net, gid),
        random,
        clock,
        churnMs,
      }),
  };
}

interface ChurnOptions {
  readonly clerk: ReturnType<typeof connectCtrler>;
  readonly gids: readonly number[];
  readonly servers: (gid: number) => readonly string[];
  readonly random: Random;
  readonly clock: Clock;
  readonly churnMs: readonly [number, number];
}

/** Joins, leaves and moves, one at a time, until stopped; at least one group stays joined. */
function startChurn(options: ChurnOptions): ChaosChurn {
  const { clerk, gids, random, clock, churnMs } = options;
  const changes = { join: 0, leave: 0, move: 0 };
  const errors: string[] = [];
  let stopped = false;
  const loop = (async () => {
    const joined = new Set<number>(gidsOf(await clerk.query()));
    while (!stopped) {
      await sleep(clock, churnMs[0] + random.int(churnMs[1] - churnMs[0] + 1));
      if (stopped) return;
      const out = gids.filter((gid) => !joined.has(gid));
      const roll = random.next();
      if (out.length > 0 && (joined.size <= 1 || roll < 0.35)) {
        const gid = out[random.int(out.length)] as number;
        await clerk.join({ [gid]: options.servers(gid) });
        joined.add(gid);
        changes.join++;
      } else if (joined.size > 1 && roll < 0.7) {
        const inside = [...joined];
        const gid = inside[random.int(inside.length)] as number;
        await clerk.leave([gid]);
        joined.delete(gid);
        changes.leave++;
      } else {
        const inside = [...joined];
        await clerk.move(random.int(NSHARDS), inside[random.int(inside.length)] as number);
        changes.move++;
      }
    }
  })().catch((err: unknown) => {
    if (!stopped) errors.push(`churn: ${(err as Error).message}`);
  });
  let done: Promise<void> | undefined;
  return {
    changes,
    errors,
    stop() {
      stopped = true;
      done ??= clerk.close().then(() => loop);
      return done;
    },
  };
}

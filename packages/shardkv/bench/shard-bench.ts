/**
 * pnpm bench:shard — the sharded cluster under load, as the issue asks: examples/sharded-cluster's
 * cluster (a controller of 3 and 3 groups of 3 processes, fsync on every save, loopback), C
 * closed-loop clerks (default 64) in this process. Phases, each measured over --seconds:
 *
 *   1 group   group 1 alone holds all 10 shards
 *   2 groups  after group 2 joined (5 shards moved) and settled
 *   during    from group 3's Join (3 of 10 shards move) until group 3 serves every shard it gains
 *   Join + 2 s the 2 s from that Join: the migration and the clerks' recovery from it
 *   3 groups  after that, settled
 *
 * It prints throughput and p50/p99 per phase, CPU per phase (all servers, the busiest process,
 * this process), the longest time any shard was unservable around the Join (per shard, the
 * longest stretch with no op on it completing), and the targets: during ≥ ½ of steady (the
 * 2-group phase), no shard unservable more than 1 s beyond the 100 ms poll interval.
 *
 *   pnpm bench:shard [--clients 64] [--seconds 5] [--op put|get] [--keys 10000]
 *                    [--value-bytes 128] [--maxraftstate 1048576] [--timeline] [--json]
 *
 * --timeline prints, for each Join, when each group's leader applied the configuration and
 * received each shard (ms after the Join was sent).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { positive } from '@flotilla/devkit/bench/args';
import { procCpuMicros } from '@flotilla/devkit/bench/procstat';
import { fmtInt, fmtMs, markdownTable } from '@flotilla/devkit/bench/table';
import { killAll } from '@flotilla/devkit/proc/child';
import { sleep } from '@flotilla/devkit/time/within';
import { connectClerk as connectCtrler } from '@flotilla/shardctrler';
import { connectClerk } from '../src/index.js';
import { ClosedLoop, type LoadOp, type WindowStats } from './load.js';
import { cleanupSync, cliMissing, startShardCluster } from './shard-cluster.js';

const POLL_INTERVAL_MS = 100;
/** After a Join, the wait for every moved shard to be served at its new owner. */
const MIGRATION_TIMEOUT_MS = 60_000;
const SETTLE_MS = 1000;
/** The fixed window from the Join that the second "during" row covers. */
const JOIN_WINDOW_MS = 2000;

const { values } = parseArgs({
  options: {
    clients: { type: 'string' },
    seconds: { type: 'string' },
    op: { type: 'string' },
    keys: { type: 'string' },
    'value-bytes': { type: 'string' },
    maxraftstate: { type: 'string' },
    json: { type: 'boolean' },
    timeline: { type: 'boolean' },
  },
});
const clients = positive('clients', values.clients, 64);
const seconds = positive('seconds', values.seconds, 5);
const op = (values.op ?? 'put') as LoadOp;
if (op !== 'put' && op !== 'get') throw new Error('--op must be put or get');
const keys = positive('keys', values.keys, 10_000);
const valueBytes = positive('value-bytes', values['value-bytes'], 128);
const maxraftstate = positive('maxraftstate', values.maxraftstate, 1024 * 1024);

const missing = cliMissing();
if (missing !== undefined) {
  console.error(missing);
  process.exit(1);
}
process.on('exit', () => {
  killAll();
  cleanupSync();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const log = (line: string): void => {
  if (!values.json) console.log(line);
};

interface Phase extends WindowStats {
  readonly name: string;
  /** All server processes together, in cores (1 = one core busy all the window). */
  readonly serverCores: number;
  readonly busiest: { readonly name: string; readonly cores: number };
  /** This process (the 64 clerks). */
  readonly loadCores: number;
}

const cluster = await startShardCluster({ groups: 3, maxraftstate, log });
const { authToken } = cluster;
const admin = connectCtrler(cluster.ctrlers, { authToken });
const clerks = Array.from({ length: clients }, () => connectClerk(cluster.ctrlers, { authToken }));
const serversOf = (gid: number): string[] => [...(cluster.groups.get(gid) as readonly string[])];

/** CPU µs so far of every server, by name, and of this process. */
function cpuNow(): { servers: Map<string, number>; self: number } {
  const servers = new Map<string, number>();
  for (const [name, pid] of cluster.pids) servers.set(name, procCpuMicros(pid));
  const usage = process.cpuUsage();
  return { servers, self: usage.user + usage.system };
}

function phase(
  name: string,
  load: ClosedLoop,
  from: number,
  to: number,
  cpu0: ReturnType<typeof cpuNow>,
): Phase {
  const cpu1 = cpuNow();
  const us = (to - from) * 1000;
  let total = 0;
  let busiest = { name: '', cores: 0 };
  for (const [server, after] of cpu1.servers) {
    const cores = (after - (cpu0.servers.get(server) ?? 0)) / us;
    total += cores;
    if (cores > busiest.cores) busiest = { name: server, cores };
  }
  return {
    name,
    ...load.window(from, to),
    serverCores: total,
    busiest,
    loadCores: (cpu1.self - cpu0.self) / us,
  };
}

async function measure(name: string, load: ClosedLoop): Promise<Phase> {
  const cpu0 = cpuNow();
  const from = performance.now();
  await Promise.race([sleep(seconds * 1000), cluster.failed]);
  return phase(name, load, from, performance.now(), cpu0);
}

/** Joins `gid` and resolves once it serves every shard it gains: the Join's moved shards and its span. */
async function joinAndMigrate(
  gid: number,
): Promise<{ moved: number[]; joinAt: number; doneAt: number }> {
  const before = await admin.query(-1);
  const joinAt = performance.now();
  const num = await admin.join({ [gid]: serversOf(gid) });
  const joinReplied = performance.now();
  const after = await admin.query(num);
  const moved = after.shards.flatMap((owner, shard) =>
    owner === gid && before.shards[shard] !== gid ? [shard] : [],
  );
  const deadline = joinAt + MIGRATION_TIMEOUT_MS;
  for (;;) {
    const served = new Set(
      cluster.received.filter((r) => r.gid === gid && r.at >= joinAt).map((r) => r.shard),
    );
    if (moved.every((shard) => served.has(shard))) break;
    if (performance.now() > deadline)
      throw new Error(`group ${gid} did not receive shards ${moved} in time`);
    await Promise.race([sleep(10), cluster.failed]);
  }
  if (values.timeline) {
    const t = (at: number) => `${Math.round(at - joinAt)} ms`;
    console.log(`join ${gid}: replied ${t(joinReplied)}`);
    for (const a of cluster.applied.filter((x) => x.at >= joinAt))
      console.log(`  g${a.gid} config ${a.config} at ${t(a.at)}`);
    for (const r of cluster.received.filter((x) => x.at >= joinAt))
      console.log(`  g${r.gid} shard ${r.shard} at ${t(r.at)}`);
  }
  const doneAt = Math.max(
    ...cluster.received.filter((r) => r.gid === gid && r.at >= joinAt).map((r) => r.at),
  );
  return { moved, joinAt, doneAt };
}

try {
  log(
    `bench:shard: ${clients} clerks, ${op}s of ${valueBytes}-byte values on ${keys} keys, ${seconds} s per phase`,
  );
  await admin.join({ 1: serversOf(1) });
  const load = new ClosedLoop(clerks, { op, keys, valueBytes });
  await sleep(SETTLE_MS);
  const phases: Phase[] = [await measure('1 group', load)];
  await joinAndMigrate(2);
  await sleep(SETTLE_MS);
  phases.push(await measure('2 groups', load));
  const cpuJoin = cpuNow();
  const join3 = await joinAndMigrate(3);
  phases.push(phase('during', load, join3.joinAt, join3.doneAt, cpuJoin));
  // The same Join over a fixed window: the migration and the clerks' recovery from it.
  await sleep(Math.max(0, join3.joinAt + JOIN_WINDOW_MS - performance.now()));
  phases.push(
    phase(
      `Join + ${JOIN_WINDOW_MS / 1000} s`,
      load,
      join3.joinAt,
      join3.joinAt + JOIN_WINDOW_MS,
      cpuJoin,
    ),
  );
  await sleep(SETTLE_MS);
  phases.push(await measure('3 groups', load));
  await load.stop();
  if (load.errors > 0)
    throw new Error(`${load.errors} ops failed; the first: ${String(load.firstError)}`);

  // Unservable: around the Join, from 0.5 s before it to 1 s after the last shard arrived.
  const gaps = load.longestGaps(join3.joinAt - 500, join3.doneAt + SETTLE_MS);
  const worstShard = gaps.indexOf(Math.max(...gaps));
  const steady = phases[1] as Phase;
  const during = phases[2] as Phase;
  const migrationMs = join3.doneAt - join3.joinAt;
  const result = {
    clients,
    op,
    phases,
    join: {
      moved: join3.moved,
      migrationMs,
      longestUnservableMs: gaps[worstShard],
      worstShard,
      gapsMs: gaps,
    },
    ratios: {
      duringOverSteady: during.opsPerSec / steady.opsPerSec,
      twoOverOne: (phases[1] as Phase).opsPerSec / (phases[0] as Phase).opsPerSec,
      joinWindowOverSteady: (phases[3] as Phase).opsPerSec / steady.opsPerSec,
      threeOverOne: (phases[4] as Phase).opsPerSec / (phases[0] as Phase).opsPerSec,
    },
  };
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    const rows = phases.map((p) => [
      p.name,
      p.seconds.toFixed(2),
      fmtInt(p.opsPerSec),
      `${fmtMs(p.p50Ms)} / ${fmtMs(p.p99Ms)}`,
      p.serverCores.toFixed(2),
      `${p.busiest.name} ${p.busiest.cores.toFixed(2)}`,
      p.loadCores.toFixed(2),
    ]);
    log('');
    for (const line of markdownTable(
      [
        'phase',
        's',
        'ops/s',
        'p50 / p99',
        'server cores',
        'busiest process (cores)',
        'clerks cores',
      ],
      rows,
    ))
      log(line);
    const { ratios } = result;
    log('');
    log(
      `join of group 3: shards ${join3.moved.join(', ')} moved in ${fmtMs(migrationMs)} (Join to the last shard served)`,
    );
    log(
      `longest unservable: shard ${worstShard}, ${fmtMs(gaps[worstShard] as number)} (per shard: ${gaps.map((g) => Math.round(g)).join(', ')} ms)`,
    );
    log(
      `scaling on this machine: 2 groups ${ratios.twoOverOne.toFixed(2)}x, 3 groups ${ratios.threeOverOne.toFixed(2)}x one group`,
    );
    const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
    log(
      `target during >= 1/2 steady: ${ratios.duringOverSteady.toFixed(2)}x, ${met(ratios.duringOverSteady >= 0.5)}`,
    );
    const limit = 1000 + POLL_INTERVAL_MS;
    log(
      `target unservable <= ${limit} ms: ${Math.round(gaps[worstShard] as number)} ms, ${met((gaps[worstShard] as number) <= limit)}`,
    );
  }
} finally {
  await Promise.allSettled([...clerks.map((c) => c.close()), admin.close()]);
  await cluster.stop();
}

/**
 * @flotilla/kvraft against etcd 3.4, the shape of ../shared/bench/etcd-load.mjs: 3 server
 * processes on 127.0.0.1 with fsync, C clients in a closed loop (one op in flight each),
 * puts of 16-byte keys / 128-byte values over a 10k key space, and linearizable gets.
 *
 *   pnpm bench:kv [-- options]            (builds @flotilla/kvraft and its deps first)
 *   tsx bench/kv-bench.ts [--clients 1,8,64] [--ops put,get] [--repeats 3] [--n OPS]
 *        [--keys 10000] [--value-bytes 128] [--no-etcd] [--shared DIR] [--point-seconds 60]
 *        [--wait-idle 30] [--max-seconds S] [--profile DIR] [--json]
 *
 * Each repeat starts a fresh 3-replica kvraft cluster (`flotilla-kvraft serve`, temp data
 * dirs, free ports: kv-cluster.ts) and runs every point (op × C) through
 * `flotilla-kvraft bench --json`, a process of its own; then a fresh 3-member etcd
 * (etcd-cluster.sh start3: etcd-side.ts) under `etcd-load.mjs --target leader --json` with the
 * same op, C, n, warmup, keys and value size. Both loads print the same JSON fields.
 *
 *   ops/s, p50, p99   the load's own figures (its measured window: after its warmup, and for
 *                     gets after its preload of 2,000 keys)
 *   CPU µs/op         user + system time of the three server processes over that window
 *                     (/proc, run-load.ts), divided by the ops; the client apart
 *   entries/fsync     on the leader, over the whole load process (warmup included): ours from
 *                     its WAL (one record = one fdatasync, wal-count.ts), etcd's from /metrics
 *                     (etcd_server_proposals_committed_total / etcd_disk_wal_fsync_duration_seconds_count)
 *
 * Tables show medians over the repeats, the ratio ours/etcd is the median of the per-repeat
 * ratios. `--n`: ops per point; by default etcd-bench.sh's (put 5k / 15k / 30k, get 8k / 20k /
 * 50k at C = 1 / 8 / 64, about 4–5 s each for etcd here), so a full run takes a few minutes.
 * Without ../shared/bench (or etcd), or with --no-etcd, kvraft runs alone and the README's etcd
 * figures stand in, marked. Before each repeat it waits up to --wait-idle s for the machine to
 * drop below 10% busy. Bounded: --point-seconds per load (their --max-seconds), --max-seconds
 * for the whole run (then every child is killed, temp dirs deleted, exit 2). `--profile DIR`:
 * the kvraft replicas run under --cpu-prof (whole life; summarize with
 * `tsx packages/raft/bench/bench-profile.ts DIR`).
 */
import { mkdirSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseList, positive } from '@flotilla/devkit/bench/args';
import { waitForIdle } from '@flotilla/devkit/bench/cpu';
import { fmtInt, fmtMs } from '@flotilla/devkit/bench/table';
import { SHARED_BENCH_DIR } from '@flotilla/devkit/paths';
import { isAlive, killAll } from '@flotilla/devkit/proc/child';
import { runMain, watchdog } from '@flotilla/devkit/proc/main';
import { cleanupEtcdSync, type EtcdCluster, etcdMissing, startEtcd } from './etcd-side.js';
import { CLI, cleanupKvSync, cliMissing, type KvCluster, startKvCluster } from './kv-cluster.js';
import {
  type Comparison,
  compare,
  type Op,
  printTable,
  type Run,
  type Summary,
  summarize,
  targets,
  toRun,
} from './report.js';
import { runLoad } from './run-load.js';

/** Ops per point by default: ../shared/bench/etcd-bench.sh's (C=8 get added), ~4–5 s for etcd. */
const DEFAULT_N: Record<Op, Record<number, number>> = {
  put: { 1: 5000, 8: 15000, 64: 30000 },
  get: { 1: 8000, 8: 20000, 64: 50000 },
};

// `pnpm bench:kv -- --n 100` may hand the `--` through.
const argv = process.argv.slice(2);
const { values: opts } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    clients: { type: 'string', default: '1,8,64' },
    ops: { type: 'string', default: 'put,get' },
    repeats: { type: 'string', default: '3' },
    n: { type: 'string' },
    keys: { type: 'string', default: '10000' },
    'value-bytes': { type: 'string', default: '128' },
    'no-etcd': { type: 'boolean', default: false },
    shared: { type: 'string' },
    'point-seconds': { type: 'string', default: '60' },
    'wait-idle': { type: 'string', default: '30' },
    'max-seconds': { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** statfs magic numbers of the usual filesystems. */
const FS_TYPES = new Map<number, string>([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x794c7630, 'overlayfs'],
]);

function fsType(dir: string): string {
  try {
    const type = statfsSync(dir).type;
    return FS_TYPES.get(type) ?? `fs type 0x${type.toString(16)}`;
  } catch {
    return 'fs type unknown';
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const levels = parseList(opts.clients, 'clients');
  const ops = opts.ops.split(',').map((s): Op => {
    if (s !== 'put' && s !== 'get') throw new Error(`--ops: unknown op ${s} (put, get)`);
    return s;
  });
  const repeats = Math.round(positive('repeats', opts.repeats));
  const fixedN = opts.n === undefined ? undefined : Math.round(positive('n', opts.n));
  const keys = Math.round(positive('keys', opts.keys));
  const valueBytes = Math.round(positive('value-bytes', opts['value-bytes']));
  const pointSeconds = Math.round(positive('point-seconds', opts['point-seconds']));
  const waitIdle = Number(opts['wait-idle']);
  if (!(waitIdle >= 0)) throw new Error('--wait-idle must be ≥ 0');
  /** Ops per point: --n, or DEFAULT_N at the nearest listed C (by ratio). */
  const nOf = (op: Op, c: number): number => {
    if (fixedN !== undefined) return fixedN;
    const listed = Object.keys(DEFAULT_N[op]).map(Number);
    const nearest = listed.reduce((a, b) =>
      Math.abs(Math.log(b / c)) < Math.abs(Math.log(a / c)) ? b : a,
    );
    return DEFAULT_N[op][nearest] as number;
  };
  const warmupOf = (n: number): number => Math.min(200, Math.floor(n / 10));

  const missingCli = cliMissing();
  if (missingCli !== undefined) throw new Error(missingCli);
  const sharedBench = path.resolve(opts.shared ?? SHARED_BENCH_DIR);
  const etcdWhyNot = opts['no-etcd'] ? '--no-etcd' : etcdMissing(sharedBench);
  const withEtcd = etcdWhyNot === undefined;
  if (!withEtcd)
    log(`etcd not measured (${etcdWhyNot}): kvraft alone; etcd's README figures shown, marked *`);
  const profileDir = opts.profile === undefined ? undefined : path.resolve(opts.profile);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const tmpFs = fsType(os.tmpdir());
  if (tmpFs === 'tmpfs')
    log(`warning: ${os.tmpdir()} is tmpfs: fsync costs nothing there, on either side`);

  // The whole run is bounded. A point: its ops at a pessimistic 300 ops/s (at most the load's
  // --max-seconds), plus preload, warmup and process start; a cluster: ~15 s to start and stop.
  const sides = withEtcd ? 2 : 1;
  const points = ops.flatMap((op) => levels.map((c) => ({ op, c })));
  const perRepeat =
    sides *
    (15 + points.reduce((a, p) => a + Math.min(pointSeconds, nOf(p.op, p.c) / 300) + 15, 0));
  const estimate = repeats * (perRepeat + waitIdle + 5);
  const maxSeconds = positive(
    'max-seconds',
    opts['max-seconds'],
    Math.max(300, Math.ceil(2 * estimate)),
  );
  const timer = watchdog(
    maxSeconds * 1000,
    `benchmark exceeded --max-seconds ${maxSeconds}; stopping everything`,
  );
  const budgetMs = (pointSeconds + 120) * 1000;

  const runs: Run[] = [];
  const record = (r: Run): void => {
    runs.push(r);
    if (opts.json) console.log(JSON.stringify(r));
    log(
      `  ${r.side.padEnd(6)} ${r.op} C=${String(r.c).padStart(2)}: ${fmtInt(r.ops_per_s)} ops/s, ` +
        `p50 ${fmtMs(r.p50_ms)}, p99 ${fmtMs(r.p99_ms)}, max ${fmtMs(r.max_ms)}; server CPU ${r.server_cpu_pct}%` +
        `${r.leader_cpu_pct === null ? '' : ` (leader ${r.leader_cpu_pct}%)`}, client CPU ${r.client_cpu_pct}%, ` +
        `${fmtInt(r.cpu_us_per_op)} CPU µs/op` +
        `${r.entries_per_fsync === null ? '' : `; leader ${r.leader_entries} entries / ${r.leader_fsyncs} fsyncs = ${r.entries_per_fsync}`}` +
        `${r.leader_changed ? '; LEADER CHANGED' : ''}` +
        `${r.truncated_by_time ? '; TRUNCATED by --point-seconds' : ''}` +
        `${r.errors > 0 ? `; ${r.errors} ERRORS (first: ${r.first_error ?? '?'})` : ''}`,
    );
  };

  const loadArgs = (op: Op, c: number): { n: number; warmup: number } => {
    const n = nOf(op, c);
    return { n, warmup: warmupOf(n) };
  };

  const runKvPoint = async (
    cluster: KvCluster,
    repeat: number,
    op: Op,
    c: number,
  ): Promise<void> => {
    const { n, warmup } = loadArgs(op, c);
    cluster.walDeltas(); // count from here
    const leader0 = cluster.leader();
    const term0 = cluster.term();
    let wal: ReturnType<KvCluster['walDeltas']> = [];
    const result = await runLoad({
      what: `flotilla-kvraft bench (${op} C=${c})`,
      args: [
        CLI,
        'bench',
        '--servers',
        cluster.urls.join(','),
        '--op',
        op,
        '--clients',
        String(c),
        '--n',
        String(n),
        '--warmup',
        String(warmup),
        '--keys',
        String(keys),
        '--value-bytes',
        String(valueBytes),
        '--max-seconds',
        String(pointSeconds),
        '--json',
      ],
      env: cluster.env,
      serverPids: cluster.pids,
      budgetMs,
      failed: cluster.failed,
      onWindowEnd: () => {
        wal = cluster.walDeltas();
      },
    });
    const leader = cluster.leader();
    const l = leader === undefined ? undefined : wal[leader];
    if (wal.some((w) => !w.exact))
      log('  note: a WAL was compacted during the load: its fsync count is partial');
    const run = toRun('kvraft', repeat, result, leader, {
      leaderFsyncs: l?.records ?? Number.NaN,
      leaderEntries: l?.entries ?? Number.NaN,
      fsyncs: wal.reduce((a, w) => a + w.records, 0),
      entries: wal.reduce((a, w) => a + w.entries, 0),
    });
    run.leader_changed = leader !== leader0 || cluster.term() !== term0;
    record(run);
  };

  const runEtcdPoint = async (
    etcd: EtcdCluster,
    repeat: number,
    op: Op,
    c: number,
  ): Promise<void> => {
    const { n, warmup } = loadArgs(op, c);
    const before = await etcd.metrics();
    const result = await runLoad({
      what: `etcd-load.mjs (${op} C=${c})`,
      args: [
        path.join(sharedBench, 'etcd-load.mjs'),
        '--endpoints',
        etcd.endpoints.join(','),
        '--target',
        'leader',
        '--op',
        op,
        '--c',
        String(c),
        '--n',
        String(n),
        '--warmup',
        String(warmup),
        '--keys',
        String(keys),
        '--value-size',
        String(valueBytes),
        '--max-seconds',
        String(pointSeconds),
        '--json',
      ],
      env: process.env,
      serverPids: etcd.pids,
      budgetMs,
    });
    const dead = etcd.pids.filter((pid) => !isAlive(pid));
    if (dead.length > 0)
      throw new Error(`etcd member(s) ${dead.join(', ')} died during ${op} C=${c}`);
    const after = await etcd.metrics();
    const leaderIndex = after.findIndex((m) => m.isLeader);
    const leader = leaderIndex < 0 ? undefined : leaderIndex;
    const delta = (i: number): { fsyncs: number; entries: number } => {
      const a = before[i];
      const b = after[i];
      return a === undefined || b === undefined
        ? { fsyncs: Number.NaN, entries: Number.NaN }
        : {
            fsyncs: b.walFsyncs - a.walFsyncs,
            entries: b.proposalsCommitted - a.proposalsCommitted,
          };
    };
    const all = after.map((_, i) => delta(i));
    const l = leader === undefined ? undefined : all[leader];
    const run = toRun('etcd', repeat, result, leader, {
      leaderFsyncs: l?.fsyncs ?? Number.NaN,
      leaderEntries: l?.entries ?? Number.NaN,
      fsyncs: all.reduce((a, d) => a + d.fsyncs, 0),
      entries: all.reduce((a, d) => a + d.entries, 0),
    });
    run.leader_changed = before.findIndex((m) => m.isLeader) !== leaderIndex;
    record(run);
  };

  let maxBusy = 0;
  const leaders: string[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    const busy = await waitForIdle({ belowPct: 10, maxWaitMs: waitIdle * 1000 });
    maxBusy = Math.max(maxBusy, busy);
    log(`repeat ${repeat}/${repeats} (background CPU load ${busy}%)`);
    if (busy > 10)
      log(`  warning: the machine is not idle (${busy}% busy); figures will be skewed`);

    const cluster = await startKvCluster({ log, profileDir, tag: `r${repeat}` });
    try {
      log(`  kvraft cluster up: ${cluster.urls.join(',')}, leader replica ${cluster.leader()}`);
      for (const op of ops) for (const c of levels) await runKvPoint(cluster, repeat, op, c);
      leaders.push(
        `r${repeat}: replica ${cluster.leader()} (pid ${cluster.pids[cluster.leader() ?? -1]})`,
      );
    } finally {
      await cluster.stop();
    }

    if (withEtcd) {
      const etcd = await startEtcd(sharedBench);
      try {
        log(`  etcd 3-member up: ${etcd.endpoints.join(',')}`);
        for (const op of ops) for (const c of levels) await runEtcdPoint(etcd, repeat, op, c);
      } finally {
        await etcd.stop();
      }
    }
  }
  clearTimeout(timer);

  const summaries: Summary[] = [];
  const comparisons: Comparison[] = [];
  for (const op of ops) {
    for (const c of levels) {
      for (const side of ['kvraft', 'etcd'] as const) {
        const s = summarize(runs, side, op, c);
        if (s !== undefined) summaries.push(s);
      }
      comparisons.push(compare(runs, op, c));
    }
  }
  const goal = targets(summaries, comparisons, withEtcd);
  if (opts.json) {
    for (const x of [...summaries, ...comparisons, ...goal.records]) console.log(JSON.stringify(x));
  }

  const cpus = os.cpus();
  const nText =
    fixedN !== undefined
      ? `${fmtInt(fixedN)} ops per point`
      : `ops per point ${ops.map((op) => `${op} ${levels.map((c) => fmtInt(nOf(op, c))).join(' / ')}`).join(', ')} (C = ${levels.join(' / ')})`;
  const out: string[] = [
    `@flotilla/kvraft vs etcd 3.4: 3 server processes on 127.0.0.1, fsync before acknowledging; ` +
      `C clients in a closed loop (one op in flight each); puts of 16 B keys / ${valueBytes} B values ` +
      `over ${fmtInt(keys)} keys, linearizable gets (2,000 keys preloaded); medians of ${repeats} repeat(s); ${nText}`,
    `machine: ${cpus.length} vCPU (${cpus[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ` +
      `data dirs in ${os.tmpdir()} (${tmpFs}) for both; background load before the repeats ≤ ${maxBusy}%; ` +
      `took ${Math.round((performance.now() - started) / 1000)} s`,
    withEtcd
      ? 'etcd: measured in this run (../shared/bench/etcd-cluster.sh start3, etcd-load.mjs --target leader, same C / n / keys / value size)'
      : `etcd: NOT measured in this run (${etcdWhyNot}); * = etcd 3 members on disk, from ../shared/bench/README.md (same kind of machine)`,
    'ours: flotilla-kvraft serve ×3 (FilePersister), load flotilla-kvraft bench (C clerks, one process); ' +
      `ours/etcd: median of the per-repeat ratios of ops/s`,
    'CPU µs/op: user+system of the 3 servers over the measured window (/proc) / ops, client apart; ' +
      'entries/fsync: on the leader over the load process (warmup included; ours: WAL records, etcd: /metrics)',
  ];
  for (const op of ops) {
    out.push(
      '',
      `### ${op}${op === 'get' ? ' (linearizable; entries/fsync –: a get writes no log entry)' : ''}`,
      '',
    );
    out.push(...printTable(op, levels, summaries, comparisons));
  }
  out.push('', 'targets:', ...goal.lines);
  console.log(out.join('\n'));
  if (profileDir !== undefined) {
    log(
      `CPU profiles of the replicas in ${profileDir} (leaders: ${leaders.join('; ')}); ` +
        `summarize with: tsx packages/raft/bench/bench-profile.ts ${profileDir}`,
    );
  }
  if (runs.some((r) => r.errors > 0)) log('warning: some ops failed (see the runs above)');
  if (runs.some((r) => r.leader_changed)) log('warning: the leader changed during some loads');
  if (runs.some((r) => r.truncated_by_time)) log('warning: some loads were cut by --point-seconds');
}

runMain(main, {
  cleanup: () => {
    // runMain's default (SIGKILL every tracked child) first, then what is not a child.
    killAll();
    cleanupKvSync();
    cleanupEtcdSync();
  },
  signals: ['SIGINT', 'SIGTERM', 'SIGHUP'],
});

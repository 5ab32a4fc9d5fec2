/**
 * Commit throughput and latency of @flotilla/raft, 3 servers, closed loop: each of C clients
 * proposes a 128-byte command on the leader and waits until the LEADER has applied that index
 * (resolved by index from onApply), then proposes the next. For C = 1 and C = 64:
 *
 *   sim   three RaftNodes in this process on a reliable SimNetwork with MemoryPersisters, on
 *         the real clock: the tests' code path in real time (bench-sim.ts);
 *   ws    three processes over WebSocket on 127.0.0.1, FilePersister in a temp dir (fdatasync
 *         per Ready), load from this process through one WsClient to the leader (bench-ws.ts);
 *   etcd  with --etcd: 3-member etcd on disk under the same load (../shared/bench, bench-etcd.ts),
 *         as the anchor, in the same run. Without it the README's etcd figures are the anchor.
 *
 *   pnpm --filter @flotilla/raft bench [--etcd] [--quick] [--json]
 *   tsx bench/raft-bench.ts [--repeats 3] [--seconds 5] [--warmup 1] [--warmup-commits 4000]
 *        [--inflight 1,64]
 *        [--only sim,ws,etcd] [--etcd] [--shared DIR] [--max-seconds S] [--profile DIR]
 *        [--seed N] [--max-entries-per-append N] [--max-inflight-appends N] [--wait-idle S]
 *        [--sim-clock real|immediate] [--json]
 *
 * Each repeat runs every setup once (fresh cluster, fresh temp dirs), in turn, so drift hits
 * all of them; the table shows medians over the repeats. Each level's warmup lasts `--warmup`
 * seconds and also until `--warmup-commits` commits (at most MAX_WARMUP_S): on a fresh cluster
 * C=1 needs thousands of commits before V8 has optimized the hot path, and a window measured
 * before that shows 2-3x the CPU per commit (bench-common.ts, Warmup).
 * `--quick`: one repeat of 2 s, warmup 0.5 s and 1,000 commits. Before
 * each repeat it waits up to `--wait-idle` seconds (default 30) for other work on the machine to
 * drop below 10% of the CPUs, and prints the load it saw.
 * `--max-seconds` bounds the whole run: past it, children are killed, temp dirs deleted, and the
 * process exits 2. `--sim-clock immediate` runs the sim's zero-delay timers with setImmediate
 * instead of setTimeout (clamped to 1 ms by Node), a diagnostic of raft's own CPU cost; the
 * default is the real clock, as asked of the sim setup. `--profile DIR` writes V8 CPU profiles
 * of each measured window (the sim process; each ws server), with the window's commits beside
 * them; summarize them with `tsx bench/bench-profile.ts DIR`. Profiling slows every figure down.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseList, positive } from '@flotilla/devkit/bench/args';
import { waitForIdle } from '@flotilla/devkit/bench/cpu';
import { median, round } from '@flotilla/devkit/bench/stats';
import { fmtInt, fmtMs, markdownTable } from '@flotilla/devkit/bench/table';
import { SHARED_BENCH_DIR } from '@flotilla/devkit/paths';
import { runMain, watchdog } from '@flotilla/devkit/proc/main';
import { COMMAND_BYTES, type Counters, type RaftKnobs } from './bench-common.js';
import { cleanupEtcdSync, etcdMissing, runEtcd } from './bench-etcd.js';
import { runSim, type SimLevelResult } from './bench-sim.js';
import { cleanupWsSync, runWs, type WsLevelResult } from './bench-ws.js';

type Setup = 'sim' | 'ws' | 'etcd';

/** etcd 3 members, disk, put, from ../shared/bench/README.md (same kind of machine, median of 3). */
const README_ANCHOR: Record<number, { opsPerSecond: number; p50Ms: number; p99Ms: number }> = {
  1: { opsPerSecond: 1120, p50Ms: 0.85, p99Ms: 2.26 },
  8: { opsPerSecond: 2926, p50Ms: 2.52, p99Ms: 6.55 },
  64: { opsPerSecond: 6811, p50Ms: 8.65, p99Ms: 22.6 },
};

const { values: opts } = parseArgs({
  options: {
    repeats: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    'warmup-commits': { type: 'string' },
    inflight: { type: 'string', default: '1,64' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    etcd: { type: 'boolean', default: false },
    shared: { type: 'string' },
    json: { type: 'boolean', default: false },
    'max-seconds': { type: 'string' },
    'wait-idle': { type: 'string', default: '30' },
    profile: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'sim-clock': { type: 'string', default: 'real' },
    'max-entries-per-append': { type: 'string' },
    'max-inflight-appends': { type: 'string' },
  },
  strict: true,
});

/** One setup at one concurrency in one repeat: the JSON-lines record. */
interface Run {
  kind: 'run';
  setup: Setup;
  repeat: number;
  c: number;
  commits: number;
  failures: number;
  seconds: number;
  commits_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Servers' CPU (sim: the one process), % of one core; the machine has os.cpus().length × 100. */
  server_cpu_pct: number;
  client_cpu_pct: number | null;
  cpu_us_per_commit: number;
  /** Commits in the 2nd half of the window / in the 1st (below 1: slowing down as the log grows). */
  second_half_ratio: number | null;
  /** The warmup before the window (ours only): commits and seconds. */
  warmup_commits?: number;
  warmup_s?: number;
  /** Batching (ours only): saves (= fsyncs on disk) of all three servers per commit, … */
  saves_per_commit?: number;
  /** … log entries per save on the leader, … */
  entries_per_leader_save?: number;
  /** … AppendEntries the leader sent per commit (heartbeats included), entries per AppendEntries. */
  appends_per_commit?: number;
  entries_per_append?: number;
}

/** The batching fields of a Run, from the servers' counters over the measured window. */
function batching(
  counters: readonly Counters[],
  leader: number,
  commits: number,
): Pick<
  Run,
  'saves_per_commit' | 'entries_per_leader_save' | 'appends_per_commit' | 'entries_per_append'
> {
  const l = counters[leader];
  if (l === undefined || commits === 0) return {};
  const saves = counters.reduce((a, k) => a + k.saves, 0);
  return {
    saves_per_commit: round(saves / commits, 3),
    entries_per_leader_save: round(l.savedEntries / Math.max(1, l.saves), 1),
    appends_per_commit: round(l.appendsOut / commits, 3),
    entries_per_append: round(l.appendEntriesOut / Math.max(1, l.appendsOut), 1),
  };
}

/** The Run of one of our setups (sim or ws) at one concurrency. */
function oursRun(
  setup: 'sim' | 'ws',
  repeat: number,
  r: SimLevelResult | WsLevelResult,
  serverCpuPct: number,
  clientCpuPct: number | null,
): Run {
  return {
    kind: 'run',
    setup,
    repeat,
    c: r.concurrency,
    commits: r.commits,
    failures: r.failures,
    seconds: round(r.seconds, 3),
    commits_per_s: round(r.commitsPerSecond, 1),
    p50_ms: round(r.p50Ms, 3),
    p99_ms: round(r.p99Ms, 3),
    max_ms: round(r.maxMs, 3),
    server_cpu_pct: round(serverCpuPct, 0),
    client_cpu_pct: clientCpuPct === null ? null : round(clientCpuPct, 0),
    cpu_us_per_commit: round(r.cpuUsPerCommit, 1),
    second_half_ratio: round(r.secondHalfRatio, 2),
    warmup_commits: r.warmupCommits,
    warmup_s: round(r.warmupSeconds, 1),
    ...batching(r.counters, r.leader, r.commits),
  };
}

interface Summary {
  kind: 'summary';
  setup: Setup;
  c: number;
  repeats: number;
  commits_per_s: number;
  p50_ms: number;
  p99_ms: number;
  server_cpu_pct: number;
  client_cpu_pct: number | null;
  cpu_us_per_commit: number;
  failures: number;
  runs_commits_per_s: number[];
  /** ours / etcd commits per second, etcd measured in this run: median of per-repeat ratios. */
  ratio_vs_etcd_this_run: number | null;
  /** ours (median) / the etcd figure of ../shared/bench/README.md. */
  ratio_vs_etcd_readme: number | null;
}

/** Upper bound of one level's warmup, whatever --warmup-commits asks (a slow or busy machine). */
const MAX_WARMUP_S = 20;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function optionalInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!(Number.isInteger(x) && x > 0)) throw new Error(`--${name} must be a positive integer`);
  return x;
}

function summarize(runs: readonly Run[], setup: Setup, c: number): Summary | undefined {
  const rs = runs.filter((r) => r.setup === setup && r.c === c);
  if (rs.length === 0) return undefined;
  const clientCpu = rs.flatMap((r) => (r.client_cpu_pct === null ? [] : [r.client_cpu_pct]));
  let thisRun: number | null = null;
  let readme: number | null = null;
  if (setup !== 'etcd') {
    const ratios = rs.flatMap((r) => {
      const e = runs.find((x) => x.setup === 'etcd' && x.c === c && x.repeat === r.repeat);
      return e === undefined || e.commits_per_s === 0 ? [] : [r.commits_per_s / e.commits_per_s];
    });
    if (ratios.length > 0) thisRun = round(median(ratios), 2);
    const anchor = README_ANCHOR[c];
    if (anchor !== undefined) {
      readme = round(median(rs.map((r) => r.commits_per_s)) / anchor.opsPerSecond, 2);
    }
  }
  return {
    kind: 'summary',
    setup,
    c,
    repeats: rs.length,
    commits_per_s: round(median(rs.map((r) => r.commits_per_s)), 0),
    p50_ms: round(median(rs.map((r) => r.p50_ms)), 3),
    p99_ms: round(median(rs.map((r) => r.p99_ms)), 3),
    server_cpu_pct: round(median(rs.map((r) => r.server_cpu_pct)), 0),
    client_cpu_pct: clientCpu.length === 0 ? null : round(median(clientCpu), 0),
    cpu_us_per_commit: round(median(rs.map((r) => r.cpu_us_per_commit)), 0),
    failures: rs.reduce((a, r) => a + r.failures, 0),
    runs_commits_per_s: rs.map((r) => round(r.commits_per_s, 0)),
    ratio_vs_etcd_this_run: thisRun,
    ratio_vs_etcd_readme: readme,
  };
}

const SETUP_LABEL: Record<Setup, string> = {
  sim: 'sim: 1 process, SimNetwork (real clock), memory',
  ws: 'ws: 3 processes, WebSocket, FilePersister',
  etcd: 'etcd 3.4: 3 processes, HTTP/JSON gateway, disk WAL',
};

function printTable(summaries: readonly Summary[], header: readonly string[]): void {
  const ratio = (x: number | null): string => (x === null ? '–' : x.toFixed(2));
  const rows = summaries.map((s) => [
    SETUP_LABEL[s.setup],
    String(s.c),
    fmtInt(s.commits_per_s),
    fmtMs(s.p50_ms),
    fmtMs(s.p99_ms),
    `${s.server_cpu_pct}%`,
    fmtInt(s.cpu_us_per_commit),
    s.client_cpu_pct === null ? '–' : `${s.client_cpu_pct}%`,
    ratio(s.ratio_vs_etcd_this_run),
    ratio(s.ratio_vs_etcd_readme),
    `${s.runs_commits_per_s.map(fmtInt).join(', ')}${s.failures > 0 ? ` (${s.failures} failed)` : ''}`,
  ]);
  const columns = [
    'setup',
    'C',
    'commits/s',
    'p50',
    'p99',
    'server CPU',
    'CPU µs/commit',
    'client CPU',
    'ours/etcd this run',
    'ours/etcd README',
    'runs (commits/s)',
  ];
  console.log([...header, '', ...markdownTable(columns, rows)].join('\n'));
}

async function main(): Promise<void> {
  const quick = opts.quick;
  const repeats = Math.round(positive('repeats', opts.repeats, quick ? 1 : 3));
  const seconds = positive('seconds', opts.seconds, quick ? 2 : 5);
  const warmup = opts.warmup === undefined ? (quick ? 0.5 : 1) : Number(opts.warmup);
  if (!(warmup >= 0)) throw new Error('--warmup must be ≥ 0');
  const warmupCommits =
    opts['warmup-commits'] === undefined ? (quick ? 1000 : 4000) : Number(opts['warmup-commits']);
  if (!(Number.isInteger(warmupCommits) && warmupCommits >= 0)) {
    throw new Error('--warmup-commits must be an integer ≥ 0');
  }
  const warmupPhase = {
    ms: warmup * 1000,
    commits: warmupCommits,
    maxMs: Math.max(warmup, MAX_WARMUP_S) * 1000,
  };
  const levels = parseList(opts.inflight, 'inflight');
  const seed = Number(opts.seed);
  const simClock = opts['sim-clock'];
  if (simClock !== 'real' && simClock !== 'immediate') {
    throw new Error('--sim-clock must be real or immediate');
  }
  if (simClock === 'immediate') {
    SETUP_LABEL.sim = 'sim: 1 process, SimNetwork (0 ms timers = setImmediate), memory';
  }
  const knobs: RaftKnobs = {
    maxEntriesPerAppend: optionalInt('max-entries-per-append', opts['max-entries-per-append']),
    maxInflightAppends: optionalInt('max-inflight-appends', opts['max-inflight-appends']),
  };
  const sharedBench = path.resolve(opts.shared ?? SHARED_BENCH_DIR);
  const wanted = new Set<Setup>(
    (opts.only ?? (opts.etcd ? 'sim,ws,etcd' : 'sim,ws')).split(',').map((s) => {
      if (s !== 'sim' && s !== 'ws' && s !== 'etcd') throw new Error(`--only: unknown setup ${s}`);
      return s;
    }),
  );
  if (wanted.has('etcd')) {
    const missing = etcdMissing(sharedBench);
    if (missing !== undefined) {
      log(`etcd not measured (${missing}); the anchor is the README's figures`);
      wanted.delete('etcd');
    }
  }
  const profileDir = opts.profile === undefined ? undefined : path.resolve(opts.profile);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });

  // The whole run is bounded: a level takes its warmup (at most MAX_WARMUP_S) + seconds plus
  // setup time.
  const waitIdle = Number(opts['wait-idle']);
  if (!(waitIdle >= 0)) throw new Error('--wait-idle must be ≥ 0');
  const estimate =
    repeats *
    (wanted.size * (levels.length * (Math.max(warmup, MAX_WARMUP_S) + seconds + 2) + 15) +
      waitIdle);
  const maxSeconds = positive('max-seconds', opts['max-seconds'], Math.max(120, 2 * estimate));
  const timer = watchdog(
    maxSeconds * 1000,
    `benchmark exceeded --max-seconds ${maxSeconds}; stopping everything`,
  );

  const runs: Run[] = [];
  const record = (r: Run): void => {
    runs.push(r);
    if (opts.json) console.log(JSON.stringify(r));
    log(
      `  ${r.setup.padEnd(4)} C=${String(r.c).padStart(2)}: ${fmtInt(r.commits_per_s)} commits/s, ` +
        `p50 ${fmtMs(r.p50_ms)}, p99 ${fmtMs(r.p99_ms)}, server CPU ${r.server_cpu_pct}%` +
        `${r.client_cpu_pct === null ? '' : `, client CPU ${r.client_cpu_pct}%`}, ` +
        `${fmtInt(r.cpu_us_per_commit)} CPU µs/commit` +
        `${r.second_half_ratio === null ? '' : `, 2nd/1st half ${r.second_half_ratio}`}` +
        `${r.warmup_commits === undefined ? '' : `, after a warmup of ${fmtInt(r.warmup_commits)} commits in ${r.warmup_s} s`}` +
        `${r.saves_per_commit === undefined ? '' : `; saves/commit ${r.saves_per_commit}, entries/leader save ${r.entries_per_leader_save}, AE/commit ${r.appends_per_commit}, entries/AE ${r.entries_per_append}`}` +
        `${r.failures > 0 ? `, ${r.failures} FAILED` : ''}`,
    );
    if (r.warmup_commits !== undefined && r.warmup_commits < warmupCommits) {
      log(
        `  warning: the warmup stopped at ${warmupPhase.maxMs / 1000} s, before ${fmtInt(warmupCommits)} commits; ` +
          'this window still includes some of the JIT ramp (more CPU per commit)',
      );
    }
  };
  let maxBusy = 0;
  for (let repeat = 1; repeat <= repeats; repeat++) {
    // Other work on the machine skews everything: wait (a bounded time) for it to calm down.
    const busy = await waitForIdle({ belowPct: 10, maxWaitMs: waitIdle * 1000 });
    maxBusy = Math.max(maxBusy, busy);
    log(`repeat ${repeat}/${repeats} (background CPU load ${busy}%)`);
    if (busy > 10)
      log(`  warning: the machine is not idle (${busy}% busy); figures will be skewed`);
    if (wanted.has('sim')) {
      const rs = await runSim(
        levels,
        warmupPhase,
        seconds * 1000,
        seed + repeat,
        knobs,
        simClock,
        profileDir,
        `sim-r${repeat}`,
      );
      for (const r of rs) record(oursRun('sim', repeat, r, r.cpuPct, null));
    }
    if (wanted.has('ws')) {
      const rs = await runWs(
        levels,
        warmupPhase,
        seconds * 1000,
        knobs,
        profileDir,
        `ws-r${repeat}`,
      );
      log(`  ws leader: server ${rs[0]?.leader}`);
      for (const r of rs) record(oursRun('ws', repeat, r, r.serverCpuPct, r.clientCpuPct));
    }
    if (wanted.has('etcd')) {
      const rs = await runEtcd(sharedBench, levels, seconds);
      for (const r of rs) {
        record({
          kind: 'run',
          setup: 'etcd',
          repeat,
          c: r.concurrency,
          commits: r.commits,
          failures: r.failures,
          seconds: r.seconds,
          commits_per_s: r.commitsPerSecond,
          p50_ms: r.p50Ms,
          p99_ms: r.p99Ms,
          max_ms: r.maxMs,
          server_cpu_pct: round(r.serverCpuPct, 0),
          client_cpu_pct: r.clientCpuPct,
          cpu_us_per_commit: round(r.cpuUsPerCommit, 1),
          second_half_ratio: null,
        });
      }
    }
  }
  clearTimeout(timer);

  const summaries: Summary[] = [];
  for (const setup of ['sim', 'ws', 'etcd'] as const) {
    for (const c of levels) {
      const s = summarize(runs, setup, c);
      if (s !== undefined) summaries.push(s);
    }
  }
  if (opts.json) for (const s of summaries) console.log(JSON.stringify(s));

  const cpus = os.cpus();
  const header = [
    `@flotilla/raft, 3 servers, closed loop of ${COMMAND_BYTES}-byte proposals, commit = applied on the leader; ` +
      `median of ${repeats} × ${seconds} s (warmup ${warmup} s and ≥ ${fmtInt(warmupCommits)} commits, at most ${MAX_WARMUP_S} s)`,
    `machine: ${cpus.length} vCPU (${cpus[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ` +
      `temp dir ${os.tmpdir()}; background load before the repeats ≤ ${maxBusy}%`,
    wanted.has('etcd')
      ? 'anchor: etcd measured in this run (../shared/bench/etcd-cluster.sh start3 + etcd-load.mjs --op put, 16 B keys, 128 B values)'
      : 'anchor: etcd not measured in this run (pass --etcd)',
    `README anchor: etcd 3 members, disk, put, from ${path.join(sharedBench, 'README.md')}: ${Object.entries(
      README_ANCHOR,
    )
      .filter(([c]) => levels.includes(Number(c)))
      .map(
        ([c, a]) =>
          `C=${c} ${fmtInt(a.opsPerSecond)} ops/s p50 ${fmtMs(a.p50Ms)} p99 ${fmtMs(a.p99Ms)}`,
      )
      .join('; ')}`,
    'CPU: % of one core (the machine has ' +
      `${cpus.length * 100}%); sim counts its one process, ws and etcd their three servers (client apart)`,
  ];
  printTable(summaries, header);
  if (runs.some((r) => r.failures > 0)) log('warning: some proposals failed (leadership changed?)');
}

runMain(main, {
  cleanup: () => {
    cleanupWsSync();
    cleanupEtcdSync();
  },
  signals: ['SIGINT', 'SIGTERM', 'SIGHUP'],
});

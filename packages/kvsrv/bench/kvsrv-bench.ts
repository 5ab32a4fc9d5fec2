/**
 * Put/Get throughput and latency of kvsrv over WebSocket between two processes, next to its
 * floor measured in the same run: the raw ws + msgpackr echo in ../shared/bench/ws-echo.mjs
 * (relative to the repository root; without it, our figures are printed alone).
 *
 *   pnpm bench                    # from packages/kvsrv: builds, then tsx bench/kvsrv-bench.ts
 *   tsx bench/kvsrv-bench.ts [--repeats 3] [--seconds 2] [--warmup 0.5] [--clerks 1,64]
 *       [--ops put,get] [--connections own,shared] [--keys 1000] [--json] [--no-floor]
 *       [--floor PATH] [--profile DIR]
 *
 * Server: the built bin, `node dist/cli.js serve --listen 127.0.0.1:0`, a fresh process per
 * repeat. Load: this process, C clerks in a closed loop (one operation in flight per clerk,
 * as the clerk allows), each op on a random one of `--keys` 16-byte keys: Puts of 128-byte
 * values (the floor's request carries the same key and value), Gets of keys preloaded with
 * such values. Per cell: a warmup, then `--seconds` measured.
 *
 * Connections: `own` gives each clerk its own WebSocket (connectClerk: what 64 clerks are in
 * practice); `shared` puts all C clerks on ONE WsClient, the floor's shape (ws-echo.mjs keeps
 * C requests in flight on one connection). At C = 1 the two are the same and only `own` runs.
 *
 * Each repeat runs the floor (one ws-echo.mjs process per level), then ours: interleaved
 * pairs. The table gives medians over the repeats and the median of the per-repeat ratios
 * ours/floor at the same C. The CPUs are sampled before each run and after the last one, with
 * a warning when something else is running. While measuring, /proc is sampled for the CPU
 * each process last ran on: at C = 1 the round trip is decided by that placement more than by
 * code (~20 µs when client and server share a vCPU, ~90 µs across vCPUs, and ~3x the CPU time
 * per call), so a pair whose two runs were placed differently says little; the "same CPU"
 * column shows it. `taskset -c 0 pnpm bench` pins everything to one CPU for a steady C = 1.
 *
 * `--floor PATH` is resolved from the repository root; ws and msgpackr for it come from
 * packages/transport (pnpm does not hoist them). `--json` prints one JSON line per run and per
 * summary row instead of the table (progress goes to stderr either way).
 *
 * `--profile DIR` writes V8 CPU profiles of our server (whole run, written when it exits on
 * SIGTERM), of this process over each measured window, and of the floor's client into DIR
 * (diagnosis only: profiling slows everything down). Use --ops/--clerks to isolate one cell.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseList } from '@flotilla/devkit/bench/args';
import { IdleCheck } from '@flotilla/devkit/bench/cpu';
import { findFloor } from '@flotilla/devkit/bench/floor';
import { ProcSampler, procCpuMicros } from '@flotilla/devkit/bench/procstat';
import { cpuProfArgs, WindowProfiler } from '@flotilla/devkit/bench/profile';
import { quantile, round } from '@flotilla/devkit/bench/stats';
import { fmtInt } from '@flotilla/devkit/bench/table';
import { runMain, watchdog } from '@flotilla/devkit/proc/main';
import { runFloorLevel, startServer } from './bench-lib.js';
import { closedLoop, frameBytes, makeKeys, openClerks, preload } from './load.js';
import {
  type Cell,
  type Connections,
  type FloorResult,
  type Op,
  type OursResult,
  printTable,
  summarize,
} from './report.js';

/** Sampling interval of `--profile` (V8's default, 1 ms, is too coarse for µs-scale calls). */
const PROFILE_INTERVAL_US = 100;

const thisFile = fileURLToPath(import.meta.url);
const packageDir = path.resolve(path.dirname(thisFile), '..');
const repoRoot = path.resolve(packageDir, '../..');
const cliPath = path.join(packageDir, 'dist/cli.js');

const { values: opts } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    repeats: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '0.5' },
    clerks: { type: 'string', default: '1,64' },
    ops: { type: 'string', default: 'put,get' },
    connections: { type: 'string', default: 'own,shared' },
    keys: { type: 'string', default: '1000' },
    'no-floor': { type: 'boolean', default: false },
    floor: { type: 'string' },
    profile: { type: 'string' },
  },
  strict: true,
});

const keys = makeKeys(parseList(opts.keys, 'keys')[0] as number);

const profileArgs = (profileDir: string | undefined): string[] =>
  cpuProfArgs(profileDir, PROFILE_INTERVAL_US);

async function runOurs(
  repeat: number,
  cells: readonly Cell[],
  seconds: number,
  warmupSeconds: number,
  profileDir: string | undefined,
): Promise<OursResult[]> {
  const authToken = randomBytes(24).toString('base64url');
  const server = await startServer(cliPath, authToken, profileArgs(profileDir));
  const profiler = new WindowProfiler();
  try {
    await preload(server.url, authToken, keys);
    const results: OursResult[] = [];
    for (const cell of cells) {
      const { clerks, close } = await openClerks(server.url, authToken, cell, keys[0] as string);
      try {
        await closedLoop(clerks, keys, cell.op, warmupSeconds * 1000, undefined);
        if (profileDir !== undefined) await profiler.start(PROFILE_INTERVAL_US);
        const lat: number[] = [];
        const sampler = new ProcSampler(() => [process.pid, server.child.pid]);
        const serverCpu0 = procCpuMicros(server.child.pid);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const failures = await closedLoop(clerks, keys, cell.op, seconds * 1000, lat);
        const el = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const serverMicros = procCpuMicros(server.child.pid) - serverCpu0;
        sampler.stop();
        const sampled = sampler.window();
        if (profileDir !== undefined) {
          const name = `client-r${repeat}-${cell.op}-c${cell.clerks}-${cell.connections}`;
          await profiler.stop(path.join(profileDir, name));
        }
        const sorted = Float64Array.from(lat).sort();
        const clientMicros = cpu.user + cpu.system;
        const bytes = frameBytes(cell.op, keys[0] as string);
        results.push({
          kind: 'run',
          impl: 'kvsrv',
          repeat,
          ...cell,
          ops: lat.length,
          seconds: round(el, 3),
          ops_per_s: round(lat.length / el, 0),
          p50_us: round(quantile(sorted, 0.5) * 1000, 1),
          p99_us: round(quantile(sorted, 0.99) * 1000, 1),
          client_cpu_pct: round((clientMicros / 1e6 / el) * 100, 0),
          server_cpu_pct: round((serverMicros / 1e6 / el) * 100, 0),
          client_cpu_us_per_op: round(clientMicros / lat.length, 1),
          server_cpu_us_per_op: round(serverMicros / lat.length, 1),
          same_cpu_pct: sampled.sameCpuPct,
          others_cpu_pct: sampled.othersPct,
          req_bytes: bytes.req,
          reply_bytes: bytes.reply,
          failures,
        });
      } finally {
        await close();
      }
    }
    return results;
  } finally {
    await server.stop();
  }
}

function parseCells(levels: readonly number[]): Cell[] {
  const ops = opts.ops.split(',') as Op[];
  if (ops.some((op) => op !== 'put' && op !== 'get')) throw new Error('--ops: put and/or get');
  const shapes = opts.connections.split(',') as Connections[];
  if (shapes.some((s) => s !== 'own' && s !== 'shared'))
    throw new Error('--connections: own and/or shared');
  const cells: Cell[] = [];
  for (const clerks of levels) {
    for (const connections of shapes) {
      if (clerks === 1 && connections === 'shared' && shapes.includes('own')) continue;
      for (const op of ops) cells.push({ op, clerks, connections });
    }
  }
  return cells;
}

async function main(): Promise<void> {
  const repeats = parseList(opts.repeats, 'repeats')[0] as number;
  const levels = parseList(opts.clerks, 'clerks');
  const seconds = Number(opts.seconds);
  const warmupSeconds = Number(opts.warmup);
  if (!(seconds > 0)) throw new Error('--seconds must be positive');
  if (!(warmupSeconds >= 0)) throw new Error('--warmup must be non-negative');
  const cells = parseCells(levels);
  const profileDir = opts.profile === undefined ? undefined : path.resolve(opts.profile);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (pnpm build)`);

  const log = (text: string): void => {
    process.stderr.write(`${text}\n`);
  };
  const floorScript = findFloor(opts.floor, opts['no-floor']);
  if (!floorScript.found) log(`${floorScript.why}: measuring ours only`);

  // A run far over its budget means something hangs (a clerk resends forever, by design).
  const floorBudgetMs = (seconds + 15) * 1000;
  const oursBudgetMs = cells.length * (seconds + warmupSeconds + 10) * 1000 + 30_000;
  const timer = watchdog(
    repeats * (levels.length * floorBudgetMs + oursBudgetMs) + 30_000,
    'benchmark exceeded its time budget; killing its children',
  );

  const floor: FloorResult[] = [];
  const ours: OursResult[] = [];
  const idle = new IdleCheck(log);
  for (let repeat = 1; repeat <= repeats; repeat++) {
    log(`repeat ${repeat}/${repeats}`);
    if (floorScript.found) {
      await idle.check('before the floor run');
      for (const inflight of levels) {
        const r = await runFloorLevel({
          floorPath: floorScript.path,
          modulesDir: path.join(repoRoot, 'packages/transport'),
          inflight,
          seconds,
          budgetMs: floorBudgetMs,
          nodeArgs: profileArgs(profileDir),
        });
        const fr: FloorResult = {
          kind: 'run',
          impl: 'floor',
          repeat,
          ...r,
          client_cpu_us_per_op: round((r.client_cpu_pct * 1e4 * r.seconds) / r.n, 1),
          server_cpu_us_per_op: round((r.server_cpu_pct * 1e4 * r.seconds) / r.n, 1),
        };
        floor.push(fr);
        if (opts.json) console.log(JSON.stringify(fr));
        log(
          `  floor ${String(inflight).padStart(3)} in flight on 1 conn:     ` +
            `${fmtInt(r.rtt_per_s)} rt/s, p50 ${r.p50_us} µs, p99 ${r.p99_us} µs, ` +
            `CPU client ${r.client_cpu_pct}% server ${r.server_cpu_pct}%, same CPU ${r.same_cpu_pct}%, others ${r.others_cpu_pct}%`,
        );
      }
    }
    await idle.check('before our run');
    for (const r of await runOurs(repeat, cells, seconds, warmupSeconds, profileDir)) {
      ours.push(r);
      if (opts.json) console.log(JSON.stringify(r));
      log(
        `  kvsrv ${r.op} ${String(r.clerks).padStart(3)} clerk(s), ${r.connections.padEnd(6)}: ` +
          `${fmtInt(r.ops_per_s)} ops/s, p50 ${r.p50_us} µs, p99 ${r.p99_us} µs, ` +
          `CPU client ${r.client_cpu_pct}% server ${r.server_cpu_pct}%, same CPU ${r.same_cpu_pct}%, others ${r.others_cpu_pct}%` +
          `${r.failures > 0 ? `, ${r.failures} FAILED` : ''}`,
      );
    }
  }
  await idle.check('after the last run');
  clearTimeout(timer);

  const summaries = summarize(cells, floor, ours);
  const cpus = os.cpus();
  const machine = `${cpus.length} vCPU (${cpus[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`;
  if (opts.json) {
    for (const s of summaries)
      console.log(JSON.stringify({ ...s, max_background_busy_pct: idle.maxBusy }));
  } else {
    printTable(summaries, {
      repeats,
      seconds,
      machine,
      haveFloor: floorScript.found,
      maxBusy: idle.maxBusy,
      keyCount: keys.length,
      floorReqBytes: floor[0]?.req_bytes,
    });
  }
  if (ours.some((r) => r.failures > 0)) throw new Error('some operations failed');
}

runMain(main);

/**
 * Round-trip benchmark of the WebSocket RPC path (WsClient → WsServer → RpcServer → handler and
 * back) between two Node processes, measured in the same run as its floor: the raw ws + msgpackr
 * echo in ../shared/bench/ws-echo.mjs (relative to the repository root).
 *
 *   pnpm bench                      # = tsx bench/rpc.ts, from packages/transport
 *   tsx bench/rpc.ts [--repeats 3] [--inflight 1,64] [--n 20000,200000] [--max-seconds 20]
 *                    [--json] [--no-floor] [--floor PATH] [--profile DIR]
 *
 * For each repeat it runs the floor, then ours (interleaved pairs), each with a fresh server
 * process; for each in-flight level it runs a warmup and then a closed loop of `inflight` calls
 * outstanding on ONE connection, `n` round trips in total (or `--max-seconds`, whichever ends
 * first). The request is the floor's: a Raft AppendEntries carrying one put of a 16-byte key and
 * a 128-byte value; the handler does the floor server's work. It reports medians over the
 * repeats and, per level, whether ours reaches TARGET_RATIO of the floor's round trips/s.
 *
 * `--profile DIR` writes V8 CPU profiles of both of our processes and of the floor's client into
 * DIR (diagnosis only: profiling slows every figure down; ws-echo.mjs kills its server before
 * that one can write its profile).
 *
 * Figures are only comparable on an otherwise idle machine: it samples the CPUs before each run
 * and after the last one, and warns when something else is running. At 1 in flight the round trip is decided by
 * the scheduler more than by code: ~90 µs when client and server sit on different vCPUs (each
 * hop pays a cross-CPU wakeup), ~20 µs when they share one, so a single repeat can be off by 3x.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseList } from '@flotilla/devkit/bench/args';
import { IdleCheck } from '@flotilla/devkit/bench/cpu';
import { findFloor, runFloor } from '@flotilla/devkit/bench/floor';
import { cpuProfArgs, WindowProfiler } from '@flotilla/devkit/bench/profile';
import { median, quantile, round } from '@flotilla/devkit/bench/stats';
import { fmtInt, fmtUs, markdownTable } from '@flotilla/devkit/bench/table';
import { track, waitExit } from '@flotilla/devkit/proc/child';
import { runMain, watchdog } from '@flotilla/devkit/proc/main';
import { encode, RpcServer, stderrLogger, WsClient, WsServer } from '../src/index.js';

const TARGET_RATIO = 0.85;
const METHOD = 'Raft.AppendEntries';
const PAYLOAD_BYTES = 128;
/** Sampling interval of `--profile` (V8's default, 1 ms, is too coarse for µs-scale calls). */
const PROFILE_INTERVAL_US = 100;

const thisFile = fileURLToPath(import.meta.url);
const packageDir = path.resolve(path.dirname(thisFile), '..');

const { values: opts } = parseArgs({
  options: {
    server: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    repeats: { type: 'string', default: '3' },
    inflight: { type: 'string', default: '1,64' },
    n: { type: 'string', default: '20000,200000' },
    'max-seconds': { type: 'string', default: '20' },
    'no-floor': { type: 'boolean', default: false },
    floor: { type: 'string' },
    profile: { type: 'string' },
  },
  strict: true,
});

interface AppendEntriesArgs {
  term: number;
  leaderId: number;
  prevLogIndex: number;
  prevLogTerm: number;
  leaderCommit: number;
  entries: Array<{
    term: number;
    command: { op: string; key: string; value: string; clientId: number; seq: number };
  }>;
}

interface AppendEntriesReply {
  term: number;
  success: boolean;
  conflictIndex: number;
}

/** One in-flight level of one run, in ws-echo.mjs's JSON shape plus who ran it. */
interface LevelResult {
  impl: 'floor' | 'flotilla';
  repeat: number;
  inflight: number;
  n: number;
  req_bytes: number;
  seconds: number;
  rtt_per_s: number;
  p50_us: number;
  p99_us: number;
  client_cpu_pct: number;
  /** Ours only (ws-echo.mjs does not report it). */
  server_cpu_pct?: number;
  failures: number;
}

// ---------------------------------------------------------------------------------------------
// Server (child process)
// ---------------------------------------------------------------------------------------------

async function serve(): Promise<void> {
  const authToken = process.env.BENCH_AUTH_TOKEN;
  if (authToken === undefined || authToken === '') throw new Error('BENCH_AUTH_TOKEN is not set');
  const rpcServer = new RpcServer({ logger: stderrLogger }).addService('Raft', {
    // The same work as ws-echo's server: the request was decoded, a small reply gets encoded.
    AppendEntries: (args: AppendEntriesArgs): AppendEntriesReply => ({
      term: args.term,
      success: true,
      conflictIndex: args.prevLogIndex + 1,
    }),
  });
  const server = await WsServer.listen({ rpcServer, port: 0, authToken, logger: stderrLogger });
  // With --cpu-prof the profile is written on a normal exit, so leave through process.exit.
  process.on('disconnect', () => process.exit(0));
  // The parent asks for this process's CPU time around each measured loop.
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system });
    }
  });
  process.send?.({ port: server.port });
}

// ---------------------------------------------------------------------------------------------
// Parent: our server child, over IPC
// ---------------------------------------------------------------------------------------------

function waitForPort(child: ChildProcess, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`server did not start within ${ms} ms`)), ms);
    const onExit = (code: number | null): void => fail(new Error(`server exited (${code})`));
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      reject(err);
    };
    child.once('exit', onExit);
    child.once('message', (message) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      const port = (message as { port?: unknown }).port;
      if (typeof port === 'number') resolve(port);
      else reject(new Error(`unexpected message from server: ${JSON.stringify(message)}`));
    });
  });
}

/** The server child's CPU time so far, in microseconds. */
function serverCpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      const micros = (message as { cpuMicros?: unknown }).cpuMicros;
      if (typeof micros !== 'number') return;
      child.off('message', onMessage);
      resolve(micros);
    };
    child.on('message', onMessage);
    child.send('cpu', (err) => {
      if (err !== null) reject(err);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Parent: the floor (ws-echo.mjs, a separate Node process with its own server child)
// ---------------------------------------------------------------------------------------------

async function runFloorRepeat(
  floorPath: string,
  repeat: number,
  levels: readonly number[],
  ns: readonly number[],
  maxSeconds: number,
  budgetMs: number,
  profileDir: string | undefined,
): Promise<LevelResult[]> {
  const lines = await runFloor({
    floorPath,
    modulesDir: packageDir,
    inflight: levels,
    n: ns,
    maxSeconds,
    budgetMs,
    nodeArgs: cpuProfArgs(profileDir, PROFILE_INTERVAL_US),
  });
  return lines.map((r) => ({ ...r, impl: 'floor', repeat, failures: 0 }));
}

// ---------------------------------------------------------------------------------------------
// Parent: ours
// ---------------------------------------------------------------------------------------------

const value = 'v'.repeat(PAYLOAD_BYTES);
let nextId = 1;

/** ws-echo.mjs's mkReq().args, built the same way (its id counter advances before args). */
function mkArgs(): AppendEntriesArgs {
  nextId++;
  return {
    term: 7,
    leaderId: 0,
    prevLogIndex: nextId,
    prevLogTerm: 7,
    leaderCommit: nextId - 1,
    entries: [
      {
        term: 7,
        command: {
          op: 'put',
          key: `k${String(nextId).padStart(15, '0')}`,
          value,
          clientId: 12345678,
          seq: nextId,
        },
      },
    ],
  };
}

async function runOurs(
  repeat: number,
  levels: readonly number[],
  ns: readonly number[],
  maxSeconds: number,
  profileDir: string | undefined,
): Promise<LevelResult[]> {
  const authToken = randomBytes(24).toString('base64url');
  const child = track(
    fork(thisFile, ['--server'], {
      // The child runs TypeScript too; resolve tsx from here so any cwd works.
      execArgv: [
        ...cpuProfArgs(profileDir, PROFILE_INTERVAL_US),
        '--import',
        import.meta.resolve('tsx'),
      ],
      env: { ...process.env, BENCH_AUTH_TOKEN: authToken },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  let client: WsClient | undefined;
  try {
    const port = await waitForPort(child, 30_000);
    client = new WsClient({ url: `ws://127.0.0.1:${port}`, authToken, reconnect: false });
    await client.ready();
    const ready = client;

    // Sanity: the server does the floor's work and answers it.
    const probe = mkArgs();
    const first = await ready.call<AppendEntriesReply>(METHOD, probe);
    if (!first.ok) throw new Error(`probe call failed: ${first.code} ${first.message ?? ''}`);
    if (first.reply.conflictIndex !== probe.prevLogIndex + 1 || first.reply.term !== probe.term) {
      throw new Error(`probe call: unexpected reply ${JSON.stringify(first.reply)}`);
    }
    // The frame WsClient puts on the wire for such a call: [REQUEST, id, method, args].
    const reqBytes = encode([2, nextId, METHOD, mkArgs()]).length;

    // The loops await client.call() directly, as ws-echo.mjs awaits its call(): one promise
    // per call on both sides (an async wrapper here would add a second one to ours).
    let failures = 0;

    const profiler = new WindowProfiler();
    if (profileDir !== undefined) await profiler.start(PROFILE_INTERVAL_US);

    const results: LevelResult[] = [];
    for (let k = 0; k < levels.length; k++) {
      const c = levels[k] as number;
      const n = ns[Math.min(k, ns.length - 1)] as number;
      failures = 0;
      // Warmup: as ws-echo.mjs.
      let w = 0;
      const warm = Math.min(2000, n / 10);
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (w < warm) {
            w++;
            if (!(await ready.call(METHOD, mkArgs())).ok) failures++;
          }
        }),
      );
      failures = 0;
      const lat = new Float64Array(n);
      let issued = 0;
      let done = 0;
      const serverCpu0 = await serverCpuMicros(child);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const deadline = t0 + maxSeconds * 1000;
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (issued < n && performance.now() < deadline) {
            issued++;
            const s = performance.now();
            const result = await ready.call(METHOD, mkArgs());
            lat[done++] = performance.now() - s;
            if (!result.ok) failures++;
          }
        }),
      );
      const el = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const serverCpu = (await serverCpuMicros(child)) - serverCpu0;
      const sorted = lat.subarray(0, done).sort();
      results.push({
        impl: 'flotilla',
        repeat,
        inflight: c,
        n: done,
        req_bytes: reqBytes,
        seconds: round(el, 3),
        rtt_per_s: round(done / el, 0),
        p50_us: round(quantile(sorted, 0.5) * 1000, 1),
        p99_us: round(quantile(sorted, 0.99) * 1000, 1),
        client_cpu_pct: round(((cpu.user + cpu.system) / 1e6 / el) * 100, 0),
        server_cpu_pct: round((serverCpu / 1e6 / el) * 100, 0),
        failures,
      });
    }

    if (profileDir !== undefined) {
      await profiler.stop(path.join(profileDir, `ours-client-r${repeat}`));
    }
    return results;
  } finally {
    await client?.close();
    if (child.connected) child.disconnect();
    await waitExit(child, 5000);
  }
}

// ---------------------------------------------------------------------------------------------
// Parent: summary
// ---------------------------------------------------------------------------------------------

interface Summary {
  kind: 'summary';
  inflight: number;
  repeats: number;
  floor_rtt_per_s: number | null;
  ours_rtt_per_s: number;
  /** Median of the per-repeat ratios ours/floor (each pair ran back to back). */
  ratio: number | null;
  ratios: number[];
  floor_p50_us: number | null;
  floor_p99_us: number | null;
  ours_p50_us: number;
  ours_p99_us: number;
  floor_client_cpu_pct: number | null;
  ours_client_cpu_pct: number;
  ours_server_cpu_pct: number;
  target: number;
  meets_target: boolean | null;
}

function summarize(
  levels: readonly number[],
  floor: LevelResult[],
  ours: LevelResult[],
): Summary[] {
  return levels.map((c) => {
    const o = ours.filter((r) => r.inflight === c);
    const f = floor.filter((r) => r.inflight === c);
    const ratios: number[] = [];
    for (const r of o) {
      const peer = f.find((x) => x.repeat === r.repeat);
      if (peer !== undefined) ratios.push(round(r.rtt_per_s / peer.rtt_per_s, 3));
    }
    const fm = (pick: (r: LevelResult) => number): number | null =>
      f.length === 0 ? null : median(f.map(pick));
    const ratio = ratios.length === 0 ? null : round(median(ratios), 3);
    return {
      kind: 'summary',
      inflight: c,
      repeats: o.length,
      floor_rtt_per_s: fm((r) => r.rtt_per_s),
      ours_rtt_per_s: median(o.map((r) => r.rtt_per_s)),
      ratio,
      ratios,
      floor_p50_us: fm((r) => r.p50_us),
      floor_p99_us: fm((r) => r.p99_us),
      ours_p50_us: median(o.map((r) => r.p50_us)),
      ours_p99_us: median(o.map((r) => r.p99_us)),
      floor_client_cpu_pct: fm((r) => r.client_cpu_pct),
      ours_client_cpu_pct: median(o.map((r) => r.client_cpu_pct)),
      ours_server_cpu_pct: median(o.map((r) => r.server_cpu_pct ?? 0)),
      target: TARGET_RATIO,
      meets_target: ratio === null ? null : ratio >= TARGET_RATIO,
    };
  });
}

function printTable(summaries: Summary[], header: string): void {
  const na = 'n/a';
  const rows = summaries.map((s) => {
    const floorLat =
      s.floor_p50_us === null || s.floor_p99_us === null
        ? na
        : `${fmtUs(s.floor_p50_us)} / ${fmtUs(s.floor_p99_us)}`;
    const cpu = `${s.floor_client_cpu_pct === null ? na : `${s.floor_client_cpu_pct}%`} / ${s.ours_client_cpu_pct}%`;
    const meets = s.meets_target === null ? na : s.meets_target ? 'yes' : 'no';
    return [
      String(s.inflight),
      s.floor_rtt_per_s === null ? na : fmtInt(s.floor_rtt_per_s),
      fmtInt(s.ours_rtt_per_s),
      s.ratio === null ? na : s.ratio.toFixed(2),
      floorLat,
      `${fmtUs(s.ours_p50_us)} / ${fmtUs(s.ours_p99_us)}`,
      cpu,
      `${s.ours_server_cpu_pct}%`,
      meets,
    ];
  });
  const lines = [
    header,
    '',
    ...markdownTable(
      [
        'in flight',
        'floor rt/s',
        'ours rt/s',
        'ratio',
        'floor p50 / p99',
        'ours p50 / p99',
        'client CPU floor / ours',
        'ours server CPU',
        `≥ ${TARGET_RATIO} of floor`,
      ],
      rows,
    ),
    '',
  ];
  for (const s of summaries) {
    if (s.ratios.length > 0)
      lines.push(`in flight ${s.inflight}: per-repeat ratios ${s.ratios.join(', ')}`);
  }
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  const repeats = parseList(opts.repeats, 'repeats')[0] as number;
  const levels = parseList(opts.inflight, 'inflight');
  const ns = parseList(opts.n, 'n');
  const maxSeconds = Number(opts['max-seconds']);
  if (!(maxSeconds > 0)) throw new Error('--max-seconds must be positive');
  const profileDir = opts.profile === undefined ? undefined : path.resolve(opts.profile);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });

  const log = (text: string): void => {
    process.stderr.write(`${text}\n`);
  };
  const floorScript = findFloor(opts.floor, opts['no-floor']);
  const haveFloor = floorScript.found;
  if (!floorScript.found) log(`${floorScript.why}: printing our figures alone`);

  // Every run is bounded by --max-seconds per level; a run that overshoots its budget by far
  // means something hangs, so the whole benchmark is bounded too.
  const runBudgetMs = levels.length * (maxSeconds + 20) * 1000 + 30_000;
  const timer = watchdog(
    repeats * 2 * runBudgetMs + 30_000,
    'benchmark exceeded its time budget; killing its children',
  );

  const floor: LevelResult[] = [];
  const ours: LevelResult[] = [];
  const emit = (r: LevelResult): void => {
    if (opts.json) console.log(JSON.stringify(r));
    log(
      `  ${r.impl.padEnd(8)} repeat ${r.repeat} in flight ${String(r.inflight).padStart(2)}: ` +
        `${fmtInt(r.rtt_per_s)} rt/s, p50 ${r.p50_us} µs, p99 ${r.p99_us} µs, ` +
        `client CPU ${r.client_cpu_pct}%` +
        `${r.server_cpu_pct === undefined ? '' : `, server CPU ${r.server_cpu_pct}%`}${r.failures > 0 ? `, ${r.failures} FAILED calls` : ''}`,
    );
  };
  // Anything else running skews every figure, and the 1-in-flight figure most (see the README:
  // it is decided by whether the two processes share a CPU).
  const idle = new IdleCheck(log);
  for (let repeat = 1; repeat <= repeats; repeat++) {
    log(`repeat ${repeat}/${repeats}`);
    if (floorScript.found) {
      await idle.check('before the floor run');
      const rs = await runFloorRepeat(
        floorScript.path,
        repeat,
        levels,
        ns,
        maxSeconds,
        runBudgetMs,
        profileDir,
      );
      for (const r of rs) emit(r);
      floor.push(...rs);
    }
    await idle.check('before our run');
    const rs = await runOurs(repeat, levels, ns, maxSeconds, profileDir);
    for (const r of rs) emit(r);
    ours.push(...rs);
  }
  await idle.check('after the last run');
  clearTimeout(timer);
  const maxBusy = idle.maxBusy;

  const summaries = summarize(levels, floor, ours);
  const cpus = os.cpus();
  const machine = `${cpus.length} vCPU (${cpus[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ${process.platform} ${process.arch}`;
  if (opts.json) {
    for (const s of summaries)
      console.log(JSON.stringify({ ...s, max_background_busy_pct: maxBusy }));
  } else {
    const what = haveFloor ? 'ours vs the ws + msgpackr floor' : 'ours (no floor)';
    printTable(summaries, `WebSocket RPC round trips, ${what}; median of ${repeats}; ${machine}`);
    console.log(
      `background CPU load, sampled before each run and after the last: at most ${maxBusy}%`,
    );
    if (maxBusy > 10) {
      console.log('WARNING: something else was using the CPUs; these figures are not comparable.');
    }
  }
  if (ours.some((r) => r.failures > 0)) throw new Error('some calls failed');
}

if (opts.server) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  runMain(main);
}

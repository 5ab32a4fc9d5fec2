/**
 * The two server processes kvsrv-bench.ts measures: ours (the built bin) and the floor's
 * (ws-echo.mjs), each with its CPU read from /proc. The generic plumbing (child processes,
 * /proc sampling, statistics) is @flotilla/devkit's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type FloorLine, runFloor } from '@flotilla/devkit/bench/floor';
import { firstChildPid, ProcSampler } from '@flotilla/devkit/bench/procstat';
import { round } from '@flotilla/devkit/bench/stats';
import { track, waitExit, waitForLine } from '@flotilla/devkit/proc/child';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** SIGTERM (the CLI closes and exits, writing its --cpu-prof profile), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * Starts `node <cli> serve --listen 127.0.0.1:0` (the built bin) and waits for its
 * "listening ws://…" line. The secret goes through the environment, not the command line.
 */
export async function startServer(
  cliPath: string,
  authToken: string,
  nodeArgs: readonly string[],
): Promise<ServerProcess> {
  const child = track(
    spawn(process.execPath, [...nodeArgs, cliPath, 'serve', '--listen', '127.0.0.1:0'], {
      env: { ...process.env, FLOTILLA_AUTH_TOKEN: authToken },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitExit(child, 5000);
  };
  try {
    const match = await waitForLine(child, /^listening (ws:\/\/\S+)$/m, 30_000, 'the server');
    return { child, url: match[1] as string, stop };
  } catch (err) {
    void stop();
    throw err;
  }
}

/** One in-flight level of one ws-echo.mjs run (its --json line), and what we sampled. */
export interface FloorLevel extends FloorLine {
  /** Sampled from /proc over the measured window's length, ending at the last sample. */
  readonly server_cpu_pct: number;
  /** Share of samples with client and server last on the same CPU. */
  readonly same_cpu_pct: number;
  /** CPU taken by other processes meanwhile, in % of one CPU. */
  readonly others_cpu_pct: number;
}

/**
 * Runs the floor (ws-echo.mjs, a separate Node process that forks its own server) at one
 * in-flight level, bounded by `seconds` (the round-trip count is set high enough that time is
 * what ends it on this kind of machine). One process per level, so the /proc samples of its
 * two processes belong to that level.
 */
export async function runFloorLevel(options: {
  readonly floorPath: string;
  /** Where ws and msgpackr resolve from (pnpm does not hoist them): @flotilla/transport. */
  readonly modulesDir: string;
  readonly inflight: number;
  readonly seconds: number;
  readonly budgetMs: number;
  readonly nodeArgs: readonly string[];
}): Promise<FloorLevel> {
  const { inflight, seconds } = options;
  const n = Math.ceil((inflight === 1 ? 60_000 : 300_000) * seconds);
  let client: ChildProcess | undefined;
  let serverPid: number | undefined;
  const sampler = new ProcSampler(() => {
    serverPid ??= firstChildPid(client?.pid);
    return [client?.pid, serverPid];
  });
  let lines: FloorLine[];
  try {
    lines = await runFloor({
      floorPath: options.floorPath,
      modulesDir: options.modulesDir,
      inflight: [inflight],
      n: [n],
      maxSeconds: seconds,
      budgetMs: options.budgetMs,
      nodeArgs: options.nodeArgs,
      onStart: (child) => {
        client = child;
      },
    });
  } finally {
    sampler.stop();
  }
  const r = lines.find((line) => line.inflight === inflight) as FloorLine;
  const w = sampler.window(r.seconds);
  return {
    inflight: r.inflight,
    n: r.n,
    req_bytes: r.req_bytes,
    seconds: r.seconds,
    rtt_per_s: r.rtt_per_s,
    p50_us: r.p50_us,
    p99_us: r.p99_us,
    client_cpu_pct: r.client_cpu_pct,
    server_cpu_pct: round((w.serverMicros / 1e6 / r.seconds) * 100, 0),
    same_cpu_pct: w.sameCpuPct,
    others_cpu_pct: w.othersPct,
  };
}

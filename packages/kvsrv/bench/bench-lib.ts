/**
 * Helpers of kvsrv-bench.ts: child processes (our server, the floor), CPU accounting, the
 * idle check, and statistics.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------------------------
// Statistics and formatting
// ---------------------------------------------------------------------------------------------

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The q-quantile of sorted values, as ws-echo.mjs and etcd-load.mjs compute it. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export function fmtInt(x: number): string {
  return Number.isNaN(x) ? 'n/a' : Math.round(x).toLocaleString('en-US');
}

export function fmtUs(x: number): string {
  if (Number.isNaN(x)) return 'n/a';
  return x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${Math.round(x)} µs`;
}

export function parseList(text: string, name: string): number[] {
  const xs = text.split(',').map(Number);
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x <= 0)) {
    throw new Error(`--${name} must be a comma-separated list of positive integers`);
  }
  return xs;
}

// ---------------------------------------------------------------------------------------------
// CPU
// ---------------------------------------------------------------------------------------------

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 nearly everywhere). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      clockTicks = Number.NaN;
    }
    if (!(clockTicks > 0)) clockTicks = 100;
  }
  return clockTicks;
}

/** What /proc/<pid>/stat says of a process: its CPU time so far and the CPU it last ran on. */
export interface ProcStat {
  /** User + system, in microseconds (10 ms resolution). */
  readonly cpuMicros: number;
  readonly lastCpu: number;
}

/** Linux /proc only; undefined elsewhere or once the process is gone. */
export function procStat(pid: number | undefined): ProcStat | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    return { cpuMicros: (ticks / ticksPerSecond()) * 1e6, lastCpu: Number(fields[36]) };
  } catch {
    return undefined;
  }
}

/** A process's CPU time so far in microseconds, NaN when /proc cannot tell. */
export function procCpuMicros(pid: number | undefined): number {
  return procStat(pid)?.cpuMicros ?? Number.NaN;
}

/** The first child of `pid` (Linux /proc), e.g. the server ws-echo.mjs forks. */
export function firstChildPid(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    return first === undefined || first === '' ? undefined : Number(first);
  } catch {
    return undefined;
  }
}

/** What a ProcSampler saw over a window. */
export interface SampledWindow {
  /** The server's CPU time, in µs, scaled to the window (NaN: too few samples). */
  readonly serverMicros: number;
  /** Everything else's CPU (other processes), in % of one CPU (NaN: too few samples). */
  readonly othersPct: number;
  /** Share of samples with client and server last on the same CPU. */
  readonly sameCpuPct: number;
}

/**
 * Samples a client and a server process every `everyMs` from /proc: the CPU each last ran
 * on, their CPU time, and the whole machine's. At 1 request in flight the round trip is
 * decided by that placement more than by code: on this kind of VM ~20 µs when the two share
 * a vCPU, ~90 µs (and ~3x the CPU time) when each wakes the other across vCPUs. The machine's
 * busy time minus the two processes' is what others (tests run concurrently) took.
 */
export class ProcSampler {
  readonly #pids: () => readonly [number | undefined, number | undefined];
  readonly #timer: NodeJS.Timeout;
  readonly #samples: Array<{
    readonly at: number;
    readonly client: number;
    readonly server: number;
    readonly busy: number;
    readonly same: boolean;
  }> = [];

  constructor(pids: () => readonly [number | undefined, number | undefined], everyMs = 20) {
    this.#pids = pids;
    this.#timer = setInterval(() => this.#sample(), everyMs);
    this.#sample();
  }

  #sample(): void {
    const [clientPid, serverPid] = this.#pids();
    const client = procStat(clientPid);
    const server = procStat(serverPid);
    if (client === undefined || server === undefined) return;
    this.#samples.push({
      at: performance.now(),
      client: client.cpuMicros,
      server: server.cpuMicros,
      busy: cpuTimes().busy * 1000,
      same: client.lastCpu === server.lastCpu,
    });
  }

  /** Takes a last sample and stops. */
  stop(): void {
    clearInterval(this.#timer);
    this.#sample();
  }

  /** The last `seconds` sampled (all of them by default). */
  window(seconds = Number.POSITIVE_INFINITY): SampledWindow {
    const last = this.#samples[this.#samples.length - 1];
    const from = last === undefined ? 0 : last.at - seconds * 1000;
    const inside = this.#samples.filter((x) => x.at >= from);
    const first = inside[0];
    if (last === undefined || first === undefined || last.at - first.at < 100)
      return { serverMicros: Number.NaN, othersPct: Number.NaN, sameCpuPct: Number.NaN };
    const spanMicros = (last.at - first.at) * 1000;
    const server = last.server - first.server;
    const others = last.busy - first.busy - server - (last.client - first.client);
    return {
      serverMicros: Number.isFinite(seconds) ? (server * seconds * 1e6) / spanMicros : server,
      othersPct: round(Math.max(0, (100 * others) / spanMicros), 0),
      sameCpuPct: round((100 * inside.filter((x) => x.same).length) / inside.length, 0),
    };
  }
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    busy += all - times.idle;
    total += all;
  }
  return { busy, total };
}

/** Percent of all CPUs busy over `ms` while this benchmark is idle (anything else skews it). */
export async function backgroundBusyPct(ms: number): Promise<number> {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  return b.total === a.total ? 0 : round((100 * (b.busy - a.busy)) / (b.total - a.total), 0);
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

/** Resolves on the child's exit; SIGKILLs it if it has not exited within `ms`. */
export function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

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
export function startServer(
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
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('server did not start within 30 s')), 30_000);
    const onExit = (code: number | null): void => fail(new Error(`server exited (${code})`));
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      const match = /^listening (ws:\/\/\S+)$/m.exec(out);
      if (match === null) return;
      done();
      child.stdout?.resume(); // keep draining anything else it prints
      resolve({ child, url: match[1] as string, stop });
    };
    const done = (): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout?.off('data', onData);
    };
    const fail = (err: Error): void => {
      done();
      void stop();
      reject(err);
    };
    child.once('exit', onExit);
    child.stdout?.on('data', onData);
  });
}

/** One in-flight level of one ws-echo.mjs run (its --json line), and what we sampled. */
export interface FloorLevel {
  readonly inflight: number;
  readonly n: number;
  readonly req_bytes: number;
  readonly seconds: number;
  readonly rtt_per_s: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly client_cpu_pct: number;
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
export function runFloorLevel(options: {
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
  const args = [
    ...options.nodeArgs,
    options.floorPath,
    '--inflight',
    String(inflight),
    '--n',
    String(n),
    '--max-seconds',
    String(seconds),
    '--json',
  ];
  const child = track(
    spawn(process.execPath, args, {
      cwd: options.modulesDir,
      env: { ...process.env, BENCH_NODE_MODULES_DIR: options.modulesDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let serverPid: number | undefined;
  const sampler = new ProcSampler(() => {
    serverPid ??= firstChildPid(child.pid);
    return [child.pid, serverPid];
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`floor did not finish within ${options.budgetMs} ms`));
    }, options.budgetMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      sampler.stop();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      sampler.stop();
      if (code !== 0) return reject(new Error(`floor exited with ${code ?? signal}`));
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return reject(new Error(`floor printed no result: ${stdout}`));
      const r = JSON.parse(line) as Omit<
        FloorLevel,
        'server_cpu_pct' | 'same_cpu_pct' | 'others_cpu_pct'
      >;
      const w = sampler.window(r.seconds);
      resolve({
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
      });
    });
  });
}

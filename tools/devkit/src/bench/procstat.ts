/**
 * Per-process CPU from Linux /proc: a process's CPU time (also for one we did not start, such
 * as the server ws-echo.mjs forks), the CPU it last ran on, and a sampler that tells how often
 * a client and its server shared a CPU while measuring. Elsewhere every figure is NaN/undefined.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { cpuTimes } from './cpu.js';
import { round } from './stats.js';

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 nearly everywhere). */
export function ticksPerSecond(): number {
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
    // Fields after "pid (comm) " (the command name may hold spaces), from field 3 (state) on.
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

  /** `pids`: [client, server], asked at every sample (a pid may become known late). */
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

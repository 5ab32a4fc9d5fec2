/**
 * Is the machine quiet? Benchmark figures are only comparable on an otherwise idle machine, and
 * round trips at 1 in flight suffer most (they depend on whether two processes share a CPU), so
 * the benches sample the machine's load while they themselves are idle, and warn.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { sleep } from '../time/within.js';
import { round } from './stats.js';

/** Busy and total time of all CPUs since boot, in ms (os.cpus()). */
export function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    busy += all - times.idle;
    total += all;
  }
  return { busy, total };
}

/**
 * Percent of all CPUs busy over `ms`, sampled while the benchmark is idle: what anything else
 * on the machine takes (tests run concurrently, a build, …).
 */
export async function backgroundBusyPct(ms: number): Promise<number> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  return b.total === a.total ? 0 : round((100 * (b.busy - a.busy)) / (b.total - a.total), 0);
}

/**
 * Waits (a bounded time) for other work to calm down: one 500 ms sample, then 1 s samples
 * while the load is above `belowPct` and `maxWaitMs` has not passed. Returns the last sample.
 */
export async function waitForIdle(options: {
  readonly belowPct: number;
  readonly maxWaitMs: number;
}): Promise<number> {
  let busy = await backgroundBusyPct(500);
  const deadline = performance.now() + options.maxWaitMs;
  while (busy > options.belowPct && performance.now() < deadline) {
    busy = await backgroundBusyPct(1000);
  }
  return busy;
}

/**
 * The load check of a bench that interleaves runs: `check(what)` before each run and after the
 * last one, so a run that shared the machine is bracketed by at least one busy sample; it warns
 * (`  warning: 30% of the CPUs busy before our run; figures will be skewed`) above `belowPct`,
 * and keeps the worst sample in `maxBusy` for the summary.
 */
export class IdleCheck {
  maxBusy = 0;
  readonly #log: (line: string) => void;
  readonly #belowPct: number;

  constructor(log: (line: string) => void, belowPct = 10) {
    this.#log = log;
    this.#belowPct = belowPct;
  }

  /** One 500 ms sample; returns it. */
  async check(what: string): Promise<number> {
    const busy = await backgroundBusyPct(500);
    this.maxBusy = Math.max(this.maxBusy, busy);
    if (busy > this.#belowPct) {
      this.#log(`  warning: ${busy}% of the CPUs busy ${what}; figures will be skewed`);
    }
    return busy;
  }
}

import v8 from 'node:v8';
import vm from 'node:vm';
import { MiB } from './harness.js';

/** `gc()`: the process's own if it runs with --expose-gc, else one exposed now. */
function loadGc(): () => void {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as () => void;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

const gc = loadGc();

/*
 * No bytecode flushing: V8 frees the bytecode of functions not run for a number of full GCs,
 * and the forced GCs here age it quickly, so code compiled before a baseline (test setup,
 * module loading) could be freed during the test and hide up to ~0.25 MiB of growth (seen in
 * heap-snapshot diffs). With flushing off, code only adds (what a test compiles on first use,
 * ≤ ~0.1 MiB), so this noise never hides growth.
 */
v8.setFlagsFromString('--no-flush-bytecode');

/** A full (mark-compact) garbage collection: the lab's `runtime.GC()`. */
export function runGc(): void {
  gc();
}

export interface MemoryReading {
  /** Live V8 heap (`heapUsed`): the server's keys, values and duplicate table live here. */
  readonly heapUsed: number;
  /** Off-heap memory held by JS objects (`external`, which includes `arrayBuffers`). */
  readonly external: number;
  readonly arrayBuffers: number;
}

/**
 * Reads memory after forced garbage collection: rounds of (GC, `turn()` — a trip through the
 * event loop —, GC), at least 5 and until two successive readings agree within 16 KiB (at most
 * 12). The turns let what only becomes garbage after the current job (WeakRef targets kept for
 * the job, FinalizationRegistry clean-ups, the test runner's own buffers) be collected too;
 * with one synchronous round, readings wandered by ±0.15 MiB run to run, enough to flip
 * TestMemGet2's verdict on one retained 10 MiB copy; with these rounds they agree within
 * ~0.02 MiB.
 */
export async function readMemory(turn: () => Promise<void>): Promise<MemoryReading> {
  let heapUsed = Number.POSITIVE_INFINITY;
  for (let round = 1; round <= 12; round++) {
    gc();
    await turn();
    gc();
    const now = process.memoryUsage().heapUsed;
    const settled = Math.abs(now - heapUsed) < 16 * 1024;
    heapUsed = now;
    if (settled && round >= 5) break;
  }
  const usage = process.memoryUsage();
  return {
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
  };
}

/** The baseline reading, taken just before a test's first operation. */
export function readBaseline(turn: () => Promise<void>): Promise<MemoryReading> {
  return readMemory(turn);
}

/** What grew between two readings. */
export interface MemoryGrowth {
  readonly heap: number;
  readonly external: number;
  /**
   * The figure held against the lab's limit: live-heap growth plus off-heap growth (buffers:
   * the wire codec's included), the whole process's as in the lab.
   */
  readonly counted: number;
}

export function growth(before: MemoryReading, after: MemoryReading): MemoryGrowth {
  const heap = after.heapUsed - before.heapUsed;
  const external = after.external - before.external;
  return { heap, external, counted: heap + Math.max(0, external) };
}

/** One line for the test's output (and the README's figures). */
export function describeGrowth(label: string, g: MemoryGrowth, perClient?: number): string {
  const mib = (n: number): string => `${(n / MiB).toFixed(2)} MiB`;
  const each =
    perClient === undefined ? '' : ` (${(g.counted / perClient).toFixed(2)} B per clerk)`;
  return (
    `  ${label}: counted growth ${g.counted} B = ${mib(g.counted)}${each}; ` +
    `heap ${mib(g.heap)}, off-heap ${mib(g.external)}`
  );
}

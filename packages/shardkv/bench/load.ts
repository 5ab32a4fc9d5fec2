/**
 * The bench's closed loop: C clerks, one op in flight each, every completion recorded with its
 * time, latency and shard, so any window of the run (a phase, a migration) can be read later.
 */
import { performance } from 'node:perf_hooks';
import { quantile } from '@flotilla/devkit/bench/stats';
import type { Clerk } from '../src/index.js';
import { key2shard } from '../src/index.js';

export type LoadOp = 'put' | 'get';

export interface Completion {
  /** performance.now() when it completed. */
  readonly at: number;
  readonly ms: number;
  readonly shard: number;
}

export interface WindowStats {
  readonly seconds: number;
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export class ClosedLoop {
  readonly completions: Completion[] = [];
  errors = 0;
  firstError: unknown;
  #running = true;
  readonly #loops: Promise<void>[];

  constructor(clerks: readonly Clerk[], options: { op: LoadOp; keys: number; valueBytes: number }) {
    const value = 'v'.repeat(options.valueBytes);
    // "<d>-<n>": the first character spreads the keys evenly over the 10 shards.
    const keyOf = (n: number): string => `${n % 10}-${n}`;
    this.#loops = clerks.map(async (clerk) => {
      while (this.#running) {
        const key = keyOf(Math.floor(Math.random() * options.keys));
        const since = performance.now();
        try {
          if (options.op === 'put') await clerk.put(key, value);
          else await clerk.get(key);
        } catch (err) {
          if (!this.#running) return;
          this.errors++;
          this.firstError ??= err;
          continue;
        }
        const at = performance.now();
        this.completions.push({ at, ms: at - since, shard: key2shard(key) });
      }
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.allSettled(this.#loops);
  }

  /** Throughput and latency of the completions in [from, to). */
  window(from: number, to: number): WindowStats {
    const lat = this.completions
      .filter((c) => c.at >= from && c.at < to)
      .map((c) => c.ms)
      .sort((a, b) => a - b);
    const seconds = (to - from) / 1000;
    return {
      seconds,
      ops: lat.length,
      opsPerSec: lat.length / seconds,
      p50Ms: lat.length === 0 ? Number.NaN : quantile(lat, 0.5),
      p99Ms: lat.length === 0 ? Number.NaN : quantile(lat, 0.99),
    };
  }

  /**
   * Per shard, the longest stretch in [from, to) with no op on it completing: how long the
   * shard was unservable, as the clerks saw it (with 64 clerks on random keys, a served shard
   * completes an op every few ms).
   */
  longestGaps(from: number, to: number): number[] {
    const last = new Array<number>(10).fill(from);
    const gaps = new Array<number>(10).fill(0);
    for (const c of this.completions) {
      if (c.at < from || c.at >= to) continue;
      gaps[c.shard] = Math.max(gaps[c.shard] as number, c.at - (last[c.shard] as number));
      last[c.shard] = c.at;
    }
    return gaps.map((gap, shard) => Math.max(gap, to - (last[shard] as number)));
  }
}

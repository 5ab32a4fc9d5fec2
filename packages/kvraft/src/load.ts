import { type Clock, type Random, realClock, systemRandom } from '@flotilla/transport';
import type { Clerk } from './clerk.js';

/** The shape of ../shared/bench/etcd-load.mjs's closed loop, so the two compare line by line. */
export interface LoadOptions {
  readonly op: 'put' | 'get';
  readonly n: number;
  readonly warmup: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly maxSeconds: number;
  /** For gets: how many keys are written first (default min(keys, 2,000)). */
  readonly preload?: number;
  readonly clock?: Clock;
  readonly random?: Random;
}

/** etcd-load.mjs's `--json` fields. */
export interface LoadReport {
  readonly op: 'put' | 'get';
  readonly c: number;
  readonly n: number;
  readonly errors: number;
  readonly seconds: number;
  readonly ops_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  readonly mean_ms: number;
  readonly truncated_by_time: boolean;
  readonly client_cpu_pct: number;
  readonly first_error?: string;
}

const KEY_BYTES = 16;

/** Key `i` of the key space, 16 bytes, as etcd-load.mjs's. */
export function loadKey(i: number): string {
  return `k${String(i).padStart(KEY_BYTES - 1, '0')}`.slice(-KEY_BYTES);
}

/**
 * Runs `clerks.length` clients in a closed loop, one operation in flight each: the preload
 * (gets), `warmup` unmeasured ops, then `n` measured ones or until `maxSeconds` pass.
 */
export async function runLoad(clerks: readonly Clerk[], options: LoadOptions): Promise<LoadReport> {
  const clock = options.clock ?? realClock;
  const random = options.random ?? systemRandom;
  const value = 'v'.repeat(options.valueBytes);
  const randomKey = (): string => loadKey(random.int(options.keys));
  const doOp = (clerk: Clerk): Promise<unknown> =>
    options.op === 'put' ? clerk.put(randomKey(), value) : clerk.get(randomKey());

  if (options.op === 'get') {
    const preload = Math.min(options.preload ?? 2000, options.keys);
    let next = 0;
    await Promise.all(
      clerks.map(async (clerk) => {
        while (next < preload) await clerk.put(loadKey(next++), value);
      }),
    );
  }
  let warmed = 0;
  await Promise.all(
    clerks.map(async (clerk) => {
      while (warmed < options.warmup) {
        warmed++;
        await doOp(clerk);
      }
    }),
  );

  const latencies = new Float64Array(options.n);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const t0 = clock.now();
  const deadline = t0 + options.maxSeconds * 1000;
  await Promise.all(
    clerks.map(async (clerk) => {
      while (issued < options.n && clock.now() < deadline) {
        issued++;
        const start = clock.now();
        try {
          await doOp(clerk);
          latencies[done++] = clock.now() - start;
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const seconds = (clock.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sorted = latencies.subarray(0, done).sort();
  const quantile = (p: number): number =>
    done > 0 ? (sorted[Math.min(done - 1, Math.floor(p * done))] as number) : Number.NaN;
  const fixed = (x: number, digits = 3): number => Number(x.toFixed(digits));
  return {
    op: options.op,
    c: clerks.length,
    n: done,
    errors,
    seconds: fixed(seconds),
    ops_per_s: fixed(done / seconds, 1),
    p50_ms: fixed(quantile(0.5)),
    p99_ms: fixed(quantile(0.99)),
    max_ms: fixed(done > 0 ? (sorted[done - 1] as number) : Number.NaN),
    mean_ms: fixed(done > 0 ? sorted.reduce((a, b) => a + b, 0) / done : Number.NaN),
    truncated_by_time: issued < options.n,
    client_cpu_pct: fixed(((cpu.user + cpu.system) / 1e6 / seconds) * 100, 0),
    ...(firstError === undefined ? {} : { first_error: firstError }),
  };
}

/** etcd-load.mjs's one-line summary. */
export function formatLoad(r: LoadReport): string {
  return (
    `${r.op} c=${r.c} n=${r.n} err=${r.errors} ${r.ops_per_s} ops/s p50=${r.p50_ms}ms ` +
    `p99=${r.p99_ms}ms max=${r.max_ms}ms (${r.seconds}s, client cpu ${r.client_cpu_pct}%)` +
    (r.first_error === undefined ? '' : `; first error: ${r.first_error}`)
  );
}

/**
 * A per-node CPU cost model for benches in virtual time (bench/sim-scaling.ts).
 *
 * On transport's simulated network a handler takes no virtual time at all, so a simulated
 * cluster has infinite CPU and its throughput says nothing. Here every server is one core:
 * each RPC it handles occupies that core for a cost (virtual time) *before* the handler runs,
 * and calls queue FIFO behind a busy core:
 *
 *   start = max(now, busyUntil);  busyUntil = start + cost;  the handler runs at busyUntil
 *
 * The wait is on the simulation's clock. While a handler is suspended (a Put waiting for its
 * commit, a Get for its read index) the core is free, as a real event loop would be.
 *
 * `withCpu(services, core, cost)` wraps every method of a `LabServer`'s `services` this way;
 * nothing in labkit or src changes.
 */
import type { CallContext, Clock, ServiceMethods } from '@flotilla/transport';

/** One core of one simulated node. Costs are in µs; the clock's unit is ms. */
export class CpuCore {
  readonly name: string;
  readonly #clock: Clock;
  /** When the last job queued so far finishes (virtual ms). */
  #busyUntil = 0;
  /** Every job's cost queued so far, done or not (virtual ms). */
  #scheduledMs = 0;
  #jobs = 0;

  constructor(name: string, clock: Clock) {
    this.name = name;
    this.#clock = clock;
  }

  /**
   * Runs `fn` once this core has spent `costUs` on it, behind every job queued before (FIFO),
   * and resolves with what it returns.
   */
  run<T>(costUs: number, fn: () => T | Promise<T>): Promise<T> {
    const cost = Math.max(0, costUs) / 1000;
    const now = this.#clock.now();
    const start = Math.max(now, this.#busyUntil);
    this.#busyUntil = start + cost;
    this.#scheduledMs += cost;
    this.#jobs++;
    const delay = this.#busyUntil - now;
    // Timers due at one instant fire in the order they were set, and busyUntil never goes
    // back, so jobs run in the order they arrived.
    return new Promise<void>((resolve) => {
      this.#clock.setTimeout(resolve, delay);
    }).then(fn);
  }

  /**
   * Time this core has been busy up to now (virtual ms). The backlog queued past now is one
   * busy stretch `[now, busyUntil)`, so it is the scheduled total less that.
   */
  busyMs(): number {
    return this.#scheduledMs - Math.max(0, this.#busyUntil - this.#clock.now());
  }

  /** Jobs queued so far (every call the node handled or is about to). */
  get jobs(): number {
    return this.#jobs;
  }

  /** How long a job queued now would wait before its own cost starts (virtual ms). */
  backlogMs(): number {
    return Math.max(0, this.#busyUntil - this.#clock.now());
  }
}

/** The cost in µs of one call of `Service.method` with these (decoded) arguments. */
export type CostModel = (qualifiedMethod: string, args: unknown) => number;

/**
 * `services` with each handler behind `core`: a call waits its turn, the core spends
 * `cost(service.method, args)` on it, then the original handler runs with the same arguments
 * and context.
 */
export function withCpu(
  services: Readonly<Record<string, ServiceMethods>>,
  core: CpuCore,
  cost: CostModel,
): Record<string, ServiceMethods> {
  const wrapped: Record<string, ServiceMethods> = {};
  for (const [service, methods] of Object.entries(services)) {
    const out: Record<string, (args: never, context: CallContext) => Promise<unknown>> = {};
    for (const [method, handler] of Object.entries(methods)) {
      const qualified = `${service}.${method}`;
      out[method] = (args: never, context: CallContext) =>
        core.run(cost(qualified, args), () => handler(args, context));
    }
    wrapped[service] = out;
  }
  return wrapped;
}

/** Depth past which `approxBytes` counts a value as one byte (no message here is that deep). */
const MAX_DEPTH = 16;

/**
 * About how many bytes `value` takes on the wire (msgpack-like: strings by UTF-8 size, byte
 * arrays by length, numbers 9, a few bytes per container); cheap enough to run per call.
 */
export function approxBytes(value: unknown, depth = 0): number {
  if (typeof value === 'string') return 5 + Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return 9;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return 1;
  if (value instanceof Uint8Array) return 5 + value.byteLength;
  let bytes = 5;
  if (Array.isArray(value)) {
    for (const item of value) bytes += approxBytes(item, depth + 1);
  } else {
    for (const [k, v] of Object.entries(value)) {
      bytes += 5 + k.length + approxBytes(v, depth + 1);
    }
  }
  return bytes;
}

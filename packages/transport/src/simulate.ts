import { describe } from './codec.js';
import { SimulationError } from './errors.js';
import { randomSeed, SeededRandom } from './random.js';
import { SimNetwork } from './sim/sim-network.js';
import { VirtualClock } from './virtual-clock.js';

/** What a scenario gets: one virtual clock, one seeded random source, one simulated network. */
export interface Sim {
  readonly seed: number;
  readonly clock: VirtualClock;
  readonly random: SeededRandom;
  readonly net: SimNetwork;
  /** Resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void>;
}

export interface SimulateOptions {
  /** The seed; `FLOTILLA_SEED` in the environment overrides it, and a random one is used if neither is set. */
  readonly seed?: number;
  /** Fail once virtual time passes this (default: one hour). */
  readonly maxVirtualMs?: number;
  /** Fail after this many timer events (default: 50 million). */
  readonly maxEvents?: number;
}

export interface SimulationReport<T> {
  readonly value: T;
  readonly seed: number;
  readonly virtualMs: number;
  readonly events: number;
  readonly rpcs: number;
  readonly bytes: number;
}

/** The seed a run will use: `FLOTILLA_SEED` if set, else `fallback`, else a random one. */
export function chooseSeed(fallback?: number): number {
  const fromEnv = process.env.FLOTILLA_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed))
      throw new RangeError(`FLOTILLA_SEED must be an integer, got ${fromEnv}`);
    return seed;
  }
  return fallback ?? randomSeed();
}

/**
 * A stable 32-bit FNV-1a hash of a test's name, to use as its default seed: a plain test run
 * is then the same run every time, and each test explores its own part of the seed space.
 */
export function hashSeed(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The seed test `name` runs with: `FLOTILLA_SEED` if set, else `hashSeed(name)`. */
export function seedFor(name: string): number {
  return chooseSeed(hashSeed(name));
}

/**
 * Runs `scenario` as a discrete-event simulation: fire the next virtual timer, let every
 * promise continuation it started settle (a `setImmediate` turn drains the microtask queue),
 * repeat until the scenario's promise settles. Only one event runs at a time, so the run is
 * a function of the seed. A failure's message carries the seed and how to replay it.
 */
export async function simulate<T>(
  scenario: (sim: Sim) => Promise<T>,
  options: SimulateOptions = {},
): Promise<SimulationReport<T>> {
  const seed = chooseSeed(options.seed);
  const clock = new VirtualClock();
  const random = new SeededRandom(seed);
  const net = new SimNetwork({ clock, random: random.fork() });
  const sim: Sim = {
    seed,
    clock,
    random,
    net,
    sleep: (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)),
  };
  const maxVirtualMs = options.maxVirtualMs ?? 3_600_000;
  const maxEvents = options.maxEvents ?? 50_000_000;

  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  scenario(sim).then(
    (value) => {
      outcome = { ok: true, value };
    },
    (error: unknown) => {
      outcome = { ok: false, error };
    },
  );
  try {
    for (;;) {
      await turn();
      if (outcome !== undefined) break;
      if (!clock.step()) {
        throw new SimulationError(
          'ERR_SIM_DEADLOCK',
          'the scenario is waiting but no timer is set',
        );
      }
      if (clock.now() > maxVirtualMs) {
        throw new SimulationError('ERR_SIM_BUDGET', `virtual time passed ${maxVirtualMs} ms`);
      }
      if (clock.firedTimers > maxEvents) {
        throw new SimulationError('ERR_SIM_BUDGET', `more than ${maxEvents} events`);
      }
    }
  } catch (err) {
    outcome = { ok: false, error: err };
  } finally {
    net.cleanup();
  }
  if (!outcome.ok) throw withSeed(outcome.error, seed, clock.now());
  return {
    value: outcome.value,
    seed,
    virtualMs: clock.now(),
    events: clock.firedTimers,
    rpcs: net.getTotalCount(),
    bytes: net.getTotalBytes(),
  };
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve)); // determinism: allowed (drains microtasks between events)
}

function withSeed(error: unknown, seed: number, virtualMs: number): unknown {
  const note = `seed ${seed} at virtual ${virtualMs.toFixed(0)} ms; replay with FLOTILLA_SEED=${seed}`;
  if (error instanceof Error) {
    error.message = `${error.message}\n  [${note}]`;
    return error;
  }
  return new Error(`${describe(error)}\n  [${note}]`, { cause: error });
}

export interface SimulateTestOptions extends Omit<SimulateOptions, 'maxVirtualMs'> {
  /** Virtual time after which the test fails as too slow (default: the labs' 120 s). */
  readonly timeLimitMs?: number;
}

/**
 * `simulate` for a named test: its seed is `seedFor(name)` unless given, and running past
 * `timeLimitMs` of virtual time fails with the labs' "test took longer than 120 seconds".
 */
export async function simulateTest<T>(
  name: string,
  scenario: (sim: Sim) => Promise<T>,
  options: SimulateTestOptions = {},
): Promise<SimulationReport<T>> {
  const limitMs = options.timeLimitMs ?? 120_000;
  try {
    return await simulate(scenario, {
      ...options,
      seed: options.seed ?? seedFor(name),
      maxVirtualMs: limitMs,
    });
  } catch (err) {
    if (err instanceof SimulationError && err.code === 'ERR_SIM_BUDGET') {
      err.message = `test took longer than ${limitMs / 1000} seconds of virtual time (${err.message})`;
    }
    throw err;
  }
}

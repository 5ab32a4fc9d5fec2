import {
  hashSeed,
  type Sim,
  SimulationError,
  type SimulationReport,
  seedFor,
  simulate,
} from '@flotilla/transport';

/** The lab's per-test limit (real time there, virtual time here). */
export const TEST_LIMIT_MS = 120_000;

export interface ScenarioOptions {
  /** Suppress the lab-style `Test (3A): … / ... Passed --` lines (the stress runner's choice). */
  readonly quiet?: boolean;
}

/** One lab test, runnable with any seed. */
export interface Scenario {
  readonly name: string;
  run(seed: number, options?: ScenarioOptions): Promise<SimulationReport<void>>;
}

export type ScenarioBody = (sim: Sim, options: ScenarioOptions) => Promise<void>;

export function defineScenario(name: string, body: ScenarioBody): Scenario {
  return {
    name,
    run: (seed, options = {}) => runScenario(name, (sim) => body(sim, options), seed),
  };
}

/**
 * Runs scenario `name` in virtual time with `seed` (default: `seedFor(name)`). A failure's
 * message carries the seed and how to replay it (`simulate` adds that); passing 120 s of
 * virtual time is the lab's timeout failure.
 */
export async function runScenario(
  name: string,
  body: (sim: Sim) => Promise<void>,
  seed: number = seedFor(name),
): Promise<SimulationReport<void>> {
  try {
    return await simulate(body, { seed, maxVirtualMs: TEST_LIMIT_MS });
  } catch (err) {
    if (err instanceof SimulationError && err.code === 'ERR_SIM_BUDGET') {
      err.message = `test took longer than ${TEST_LIMIT_MS / 1000} seconds of virtual time (${err.message})`;
    }
    throw err;
  }
}
export { hashSeed, seedFor };

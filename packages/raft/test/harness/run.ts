import {
  hashSeed,
  type Sim,
  type SimulationReport,
  seedFor,
  simulateTest,
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
export function runScenario(
  name: string,
  body: (sim: Sim) => Promise<void>,
  seed?: number,
): Promise<SimulationReport<void>> {
  return simulateTest(name, body, { seed, timeLimitMs: TEST_LIMIT_MS });
}
export { hashSeed, seedFor };

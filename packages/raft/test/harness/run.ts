import {
  hashSeed,
  type Sim,
  type SimulationReport,
  seedFor,
  simulateTest,
} from '@flotilla/transport';

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
 * message carries the seed and how to replay it (`simulate` adds that). The lab's per-test
 * limit (120 s, real time there) is `simulateTest`'s default limit of virtual time: passing it
 * fails the run at once with the lab's "test took longer than 120 seconds".
 */
export function runScenario(
  name: string,
  body: (sim: Sim) => Promise<void>,
  seed?: number,
): Promise<SimulationReport<void>> {
  return simulateTest(name, body, { seed });
}
export { hashSeed, seedFor };

/**
 * What the stress runner needs of a suite: a module exporting `scenarios`, each a lab test by
 * its lab name that runs with any seed. Both the main thread (for the names) and every worker
 * (to run them) import that module, so it is named by URL, not passed as a value.
 */

export interface StressScenarioOptions {
  /** Print nothing of the test's own: the runner's lines are the only output. */
  readonly quiet: boolean;
}

export interface StressScenario {
  readonly name: string;
  run(seed: number, options: StressScenarioOptions): Promise<{ readonly virtualMs: number }>;
}

function isScenario(value: unknown): value is StressScenario {
  return (
    typeof value === 'object' &&
    value !== null &&
    'name' in value &&
    typeof value.name === 'string' &&
    'run' in value &&
    typeof value.run === 'function'
  );
}

/** Imports the registry module at `url` and checks that it exports `scenarios`, uniquely named. */
export async function loadScenarios(url: string): Promise<readonly StressScenario[]> {
  const module: unknown = await import(url);
  const scenarios =
    typeof module === 'object' && module !== null && 'scenarios' in module
      ? module.scenarios
      : undefined;
  if (!Array.isArray(scenarios) || scenarios.length === 0 || !scenarios.every(isScenario)) {
    throw new Error(`${url} does not export scenarios: { name, run(seed, { quiet }) }[]`);
  }
  const names = new Set<string>();
  for (const s of scenarios) {
    if (names.has(s.name)) throw new Error(`${url}: two scenarios named ${s.name}`);
    names.add(s.name);
  }
  return scenarios;
}

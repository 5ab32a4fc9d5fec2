import { describe, it } from 'vitest';
import { seedFor } from '../harness/run.js';
import { scenariosOf } from './scenarios.js';

/** Virtual time makes each scenario fast, but the longest ones still take seconds of CPU. */
const TIMEOUT_MS = 60_000;

describe('Lab 3C', () => {
  for (const scenario of scenariosOf('3C')) {
    it(
      scenario.name,
      async () => {
        await scenario.run(seedFor(scenario.name));
      },
      TIMEOUT_MS,
    );
  }
});

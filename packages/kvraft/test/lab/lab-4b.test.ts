import { describe, it } from 'vitest';
import { scenariosOf } from './scenarios.js';

/** Virtual time makes each test fast; the budget is for a loaded 2-core machine. */
const TIMEOUT_MS = 120_000;

describe('Lab 4B (kvraft): key/value service with snapshots', () => {
  for (const test of scenariosOf('4B')) {
    it(
      `${test.name}: ${test.what}`,
      async () => {
        await test.run();
      },
      TIMEOUT_MS,
    );
  }
});

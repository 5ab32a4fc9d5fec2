import { describe, it } from 'vitest';
import { scenariosOf } from './scenarios.js';

/** Virtual time makes each test fast; the budget is for a loaded 2-core machine. */
const TIMEOUT_MS = 120_000;

describe('Lab 5A (shardkv): static shards', () => {
  for (const test of scenariosOf('5A')) {
    it(
      `${test.name}: ${test.what}`,
      async () => {
        await test.run();
      },
      TIMEOUT_MS,
    );
  }
});

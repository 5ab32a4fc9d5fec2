import { beforeAll, describe, expect, it } from 'vitest';
import { type SubtestOutcome, suites } from './scenarios.js';

/** Virtual time makes each test fast; the budget is for a loaded 2-core machine. */
const TIMEOUT_MS = 120_000;

describe('Lab 5A (shardctrler): the shard controller', () => {
  for (const suite of suites) {
    describe(suite.name, () => {
      let outcomes: Map<string, SubtestOutcome>;
      // The subtests share one cluster, in order, as the lab's do: run them once, then report each.
      beforeAll(async () => {
        ({ outcomes } = await suite.run());
      }, TIMEOUT_MS);

      for (const sub of suite.subtests) {
        it(`${suite.name}/${sub.name}: ${sub.what}`, () => {
          const outcome = outcomes.get(sub.name);
          if (outcome?.status === 'failed') throw outcome.error;
          if (outcome?.status === 'not run') {
            throw new Error(`not run: the subtest before (${outcome.after}) failed`);
          }
          expect(outcome?.status).toBe('passed');
        });
      }
    });
  }
});

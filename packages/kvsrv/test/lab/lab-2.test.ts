import { describe, it } from 'vitest';
import { genericTest, unreliableOneKey } from './generic.js';
import { runLabTest } from './harness.js';

/** Virtual time makes each test fast; the budget is for slow CI machines. */
const TIMEOUT_MS = 60_000;

describe('Lab 2 (kvsrv): correctness', () => {
  it(
    'TestBasic2: one client, reliable network',
    async () => {
      await runLabTest('TestBasic2', (sim) => genericTest(sim, 1, false, false));
    },
    TIMEOUT_MS,
  );

  it(
    'TestConcurrent2: many clients, reliable network',
    async () => {
      await runLabTest('TestConcurrent2', (sim) => genericTest(sim, 5, false, false));
    },
    TIMEOUT_MS,
  );

  it(
    'TestUnreliable2: many clients, unreliable network',
    async () => {
      await runLabTest('TestUnreliable2', (sim) => genericTest(sim, 5, true, false));
    },
    TIMEOUT_MS,
  );

  it(
    'TestUnreliableOneKey2: concurrent appends to one key, unreliable network',
    async () => {
      await runLabTest('TestUnreliableOneKey2', unreliableOneKey);
    },
    TIMEOUT_MS,
  );
});

import { describe, it } from 'vitest';
import { runLabTest } from './harness.js';
import {
  memAppend,
  memGet,
  memGetManyClients,
  memManyAppends,
  memPut,
  memPutManyClients,
} from './mem.js';

/*
 * Memory tests, in their own file: vitest runs each test file in its own worker process, so no
 * other test's allocations share this heap. Each holds the growth of live memory against the
 * lab's limit (see mem.ts).
 */

const TIMEOUT_MS = 60_000;

describe('Lab 2 (kvsrv): memory', () => {
  it(
    'TestMemGet2: Gets of a 10 MiB value, unreliable network (growth < 10 MiB, floored)',
    async () => {
      await runLabTest('TestMemGet2', memGet);
    },
    TIMEOUT_MS,
  );

  it(
    'TestMemPut2: a 10 MiB Put overwritten (growth < 10 MiB, floored)',
    async () => {
      await runLabTest('TestMemPut2', memPut);
    },
    TIMEOUT_MS,
  );

  it(
    'TestMemAppend2: two 10 MiB Appends (growth ≤ 30 MiB, floored)',
    async () => {
      await runLabTest('TestMemAppend2', memAppend);
    },
    TIMEOUT_MS,
  );

  it(
    'TestMemPutManyClients: 100,000 clerks Put once (growth ≤ 100,000 × 200 bytes)',
    async () => {
      await runLabTest('TestMemPutManyClients', memPutManyClients);
    },
    TIMEOUT_MS,
  );

  it(
    'TestMemGetManyClients: 100,000 clerks Get once (growth < 100,000 × 10 bytes)',
    async () => {
      await runLabTest('TestMemGetManyClients', memGetManyClients);
    },
    TIMEOUT_MS,
  );

  it(
    'TestMemManyAppends: 1,000 Appends of 1,000 characters (growth < 3,000,000 bytes)',
    async () => {
      await runLabTest('TestMemManyAppends', memManyAppends);
    },
    TIMEOUT_MS,
  );
});

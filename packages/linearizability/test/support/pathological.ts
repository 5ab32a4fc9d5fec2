import type { Operation, RegisterInput, RegisterOutput } from '../../src/index.js';

/**
 * `n` concurrent writes of distinct values, then a read of a value nobody wrote: before it can
 * say illegal the search must visit every subset of the writes (as the linearized set) with
 * each possible last value, about 2^n configurations.
 */
export function writeStorm(n: number): Operation<RegisterInput, RegisterOutput>[] {
  const ops: Operation<RegisterInput, RegisterOutput>[] = [];
  for (let i = 0; i < n; i++) {
    ops.push({ clientId: i, input: { op: 'write', value: i + 1 }, call: 0, return: 100 });
  }
  ops.push({ clientId: n, input: { op: 'read' }, call: 200, output: -1, return: 300 });
  return ops;
}

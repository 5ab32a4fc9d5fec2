import { describe, expect, it } from 'vitest';
import { checkOperations, kvModel, registerModel } from '../src/index.js';
import { writeStorm } from './support/pathological.js';

const register = registerModel(0);

describe('time limit', () => {
  it('a pathological history returns unknown near the limit', () => {
    const limit = 300;
    const result = checkOperations(register, writeStorm(40), {
      timeLimitMs: limit,
      explain: true,
    });
    expect(result.outcome).toBe('unknown');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(limit);
    // The deadline is polled every few thousand steps (well under a millisecond apart).
    expect(result.elapsedMs).toBeLessThan(limit + 250);
    const [partition] = result.partitions;
    expect(partition?.outcome).toBe('unknown');
    expect(partition?.steps).toBeGreaterThan(10_000);
    // With `explain`, what the search had reached is reported.
    expect(partition?.partials[0]?.length).toBeGreaterThan(0);
  });

  it('with an injected clock the cut-off point is deterministic', () => {
    const run = () => {
      let t = 0;
      return checkOperations(register, writeStorm(30), { timeLimitMs: 20, now: () => t++ });
    };
    const a = run();
    const b = run();
    expect(a.outcome).toBe('unknown');
    expect(a.partitions).toEqual(b.partitions);
    expect(a.elapsedMs).toBe(b.elapsedMs);
  });

  it('partitions not reached before the deadline are unknown, and illegal still wins', () => {
    // Key "k": a storm of concurrent puts of "" (the get can only fail once all are placed).
    const storm = writeStorm(30).map((op) => ({
      ...op,
      input:
        op.input.op === 'write'
          ? { op: 'put' as const, key: 'k', value: '' }
          : { op: 'get' as const, key: 'k' },
      output: op.input.op === 'write' ? undefined : 'nobody wrote this',
    }));
    const stale = [
      { clientId: 0, input: { op: 'put' as const, key: 'a', value: '1' }, call: 0, return: 1 },
      { clientId: 0, input: { op: 'get' as const, key: 'a' }, call: 2, output: '', return: 3 },
    ];
    const result = checkOperations(kvModel, [...storm, ...stale], { timeLimitMs: 100 });
    // The small partition is checked first and is illegal; the storm runs out of time.
    expect(result.outcome).toBe('illegal');
    expect(result.partitions.map((p) => [p.key, p.outcome])).toEqual([
      ['a', 'illegal'],
      ['k', 'unknown'],
    ]);
  });

  it('without a limit, a small storm is decided', () => {
    expect(checkOperations(register, writeStorm(8)).outcome).toBe('illegal');
  });
});

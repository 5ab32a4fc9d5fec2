import { describe, expect, it } from 'vitest';
import { checkOperations, kvModel } from '../src/index.js';
import { corruptOneRead, kvHistory, prng, randomSpecs } from './support/histories.js';

// 50 clients × 100 operations each on 10 keys: about 17 operations in flight per key at any
// time, the lab's random-keys mix (45% get, 5% put, 50% append).
const shapes = [
  {
    name: 'effects anywhere in the interval',
    seed: 7,
    minDuration: 5,
    maxDuration: 10,
    maxThink: 2,
  },
  { name: 'very uneven latencies', seed: 11, minDuration: 1, maxDuration: 20, maxThink: 3 },
  {
    name: 'effects late in the interval (apply, then reply)',
    seed: 13,
    minDuration: 5,
    maxDuration: 10,
    maxThink: 2,
    effectFrom: 0.7,
  },
];

describe('large histories', () => {
  for (const { name, seed, ...shape } of shapes) {
    it(`50 clients × 100 ops on 10 keys, ${name}: ok and illegal are decided`, () => {
      const ops = kvHistory(
        randomSpecs(seed, { clients: 50, opsPerClient: 100, keys: 10, ...shape }),
      );
      expect(ops).toHaveLength(5000);
      const ok = checkOperations(kvModel, ops, { timeLimitMs: 20_000 });
      expect(ok.outcome).toBe('ok');
      expect(ok.partitions).toHaveLength(10);

      const changed = corruptOneRead(ops, prng(seed)(), 'never#written');
      const bad = checkOperations(kvModel, ops, { timeLimitMs: 20_000 });
      expect(bad.outcome).toBe('illegal');
      const illegal = bad.partitions.filter((p) => p.outcome === 'illegal');
      expect(illegal).toHaveLength(1);
      expect(illegal[0]?.operations).toContain(changed);
    }, 60_000);
  }

  it('kvsrv-style appends (returning the old value), 50 clients × 100 ops on 5 keys', () => {
    const ops = kvHistory(
      randomSpecs(3, { clients: 50, opsPerClient: 100, keys: 5, minDuration: 5, maxDuration: 10 }),
      {
        appendReturnsOld: true,
      },
    );
    expect(checkOperations(kvModel, ops, { timeLimitMs: 20_000 }).outcome).toBe('ok');
    corruptOneRead(ops, 0.5, 'never#written');
    expect(checkOperations(kvModel, ops, { timeLimitMs: 20_000 }).outcome).toBe('illegal');
  }, 60_000);

  it('with unknown outcomes: 5% of 5,000 operations never return', () => {
    const ops = kvHistory(
      randomSpecs(5, {
        clients: 50,
        opsPerClient: 100,
        keys: 10,
        minDuration: 5,
        maxDuration: 10,
        pendingRate: 0.05,
      }),
    );
    expect(ops.filter((op) => op.return === undefined).length).toBeGreaterThan(200);
    expect(checkOperations(kvModel, ops, { timeLimitMs: 20_000 }).outcome).toBe('ok');
    corruptOneRead(ops, 0.7, 'never#written');
    expect(checkOperations(kvModel, ops, { timeLimitMs: 20_000 }).outcome).toBe('illegal');
  }, 60_000);
});

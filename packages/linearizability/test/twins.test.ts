import { describe, expect, it } from 'vitest';
import { casRegisterModel, checkOperations } from '../src/index.js';
import { canonicalKey, earlierTwins } from '../src/twins.js';
import { casHistory, prng, randomSpecs } from './support/histories.js';

describe('twins: identical unknown-outcome operations', () => {
  it('canonicalKey is equal for equal plain data only', () => {
    expect(canonicalKey({ op: 'write', value: 3 })).toBe(canonicalKey({ value: 3, op: 'write' }));
    expect(canonicalKey({ op: 'write', value: 3 })).not.toBe(
      canonicalKey({ op: 'write', value: '3' }),
    );
    expect(canonicalKey([1, [2, null]])).toBe('[1,[2,null]]');
    expect(canonicalKey(new Map())).toBeUndefined();
    expect(canonicalKey({ at: new Date(0) })).toBeUndefined();
    expect(canonicalKey(-0)).toBeUndefined();
    expect(canonicalKey(Number.NaN)).toBeUndefined();
    expect(canonicalKey(1n)).toBeUndefined();
  });

  it('only pending operations with equal inputs are chained, in call order', () => {
    const op = (index: number, value: number, pending: boolean) => ({
      index,
      clientId: index,
      input: { op: 'write', value },
      output: undefined,
      call: index,
      return: pending ? Number.POSITIVE_INFINITY : index + 1,
      pending,
    });
    const twins = earlierTwins([op(0, 1, true), op(1, 1, false), op(2, 2, true), op(3, 1, true)]);
    expect(Array.from(twins)).toEqual([-1, -1, -1, 0]);
  });

  it('CasRegister histories full of unknown-outcome writes: ok, and illegal once a read is corrupted', () => {
    const model = casRegisterModel<number | null>(null);
    for (let seed = 1; seed <= 30; seed++) {
      const specs = randomSpecs(seed, { clients: 5, opsPerClient: 40, keys: 1, pendingRate: 0.07 });
      const ops = casHistory(specs);
      expect(checkOperations(model, ops).outcome, `seed ${seed}`).toBe('ok');
      const reads = ops.flatMap((o, i) =>
        o.input.op === 'read' && o.return !== undefined ? [i] : [],
      );
      const bad = [...ops];
      const at = reads[Math.floor(prng(seed)() * reads.length)] as number;
      bad[at] = { ...(bad[at] as (typeof ops)[number]), output: 99 };
      expect(checkOperations(model, bad).outcome, `seed ${seed}`).toBe('illegal');
    }
  });
});

import { describe, expect, it } from 'vitest';
import {
  checkOperations,
  formatResult,
  type KvInput,
  type KvOutput,
  kvMapModel,
  type Operation,
} from '../src/index.js';

type Op = Operation<KvInput, KvOutput>;

describe('kvMapModel (the KV model, unpartitioned)', () => {
  it('states reached by different orders of independent writes are equal and hash alike', () => {
    const s0 = kvMapModel.init();
    const ab = s0.write('a', 'x', true).write('b', 'y', false);
    const ba = s0.write('b', 'y', false).write('a', 'x', true);
    expect(ab).not.toBe(ba);
    expect(kvMapModel.equal?.(ab, ba)).toBe(true);
    expect(kvMapModel.hash?.(ab)).toBe(kvMapModel.hash?.(ba));
    expect(kvMapModel.equal?.(ab, s0.write('a', 'x', true))).toBe(false);
    // A key put back to "" is the same as a key never written.
    const cleared = ab.write('b', '', false);
    expect(kvMapModel.equal?.(cleared, s0.write('a', 'x', true))).toBe(true);
    expect(cleared.get('b')).toBe('');
  });

  it('checks one history across keys, with the whole store in the report', () => {
    const ops: Op[] = [
      { clientId: 0, input: { op: 'put', key: 'a', value: '1' }, call: 0, return: 5 },
      { clientId: 1, input: { op: 'append', key: 'b', value: '2' }, call: 0, return: 5 },
      { clientId: 2, input: { op: 'get', key: 'b' }, output: '', call: 10, return: 15 },
    ];
    const result = checkOperations(kvMapModel, ops);
    expect(result.outcome).toBe('illegal');
    expect(result.partitions).toHaveLength(1);
    expect(result.partitions[0]?.key).toBeNull();
    const text = formatResult(kvMapModel, result);
    expect(text).toContain('leaving state {"a": "1", "b": "2"}');
    expect(text).toContain('get("b") → ""');
    ops[2] = { ...(ops[2] as Op), output: '2' };
    expect(checkOperations(kvMapModel, ops).outcome).toBe('ok');
  });

  it('validates inputs as kvModel does', () => {
    expect(() =>
      checkOperations(kvMapModel, [
        { clientId: 0, input: { op: 'get' } as unknown as KvInput, call: 0 },
      ]),
    ).toThrow(/needs a string key/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  checkEvents,
  checkOperations,
  explainResult,
  type HistoryEvent,
  type Operation,
  registerModel,
} from '../src/index.js';
import type { RegisterInput, RegisterOutput } from '../src/models/register.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const model = registerModel(0);
const w = (clientId: number, value: number, call: number, ret?: number): Op => ({
  clientId,
  input: { op: 'write', value },
  call,
  ...(ret === undefined ? {} : { return: ret }),
});
const r = (clientId: number, output: number, call: number, ret: number): Op => ({
  clientId,
  input: { op: 'read' },
  call,
  output,
  return: ret,
});

describe('register model', () => {
  it('a sequential history that follows the register is ok', () => {
    const result = checkOperations(model, [
      r(0, 0, 0, 1),
      w(0, 1, 2, 3),
      r(0, 1, 4, 5),
      w(1, 2, 6, 7),
      r(1, 2, 8, 9),
    ]);
    expect(result.outcome).toBe('ok');
    expect(result.partitions).toHaveLength(1);
    expect(result.partitions[0]?.key).toBeNull();
    expect(result.partitions[0]?.partials[0]).toEqual([0, 1, 2, 3, 4]);
  });

  it('a read concurrent with a write may see the old or the new value', () => {
    expect(checkOperations(model, [w(0, 1, 0, 10), r(1, 0, 5, 15)]).outcome).toBe('ok');
    expect(checkOperations(model, [w(0, 1, 0, 10), r(1, 1, 5, 15)]).outcome).toBe('ok');
  });

  it('overlapping reads may disagree only while the write is in flight', () => {
    // Both reads overlap the write; the first sees the new value, the second (which starts
    // after the first returned) the old one: once seen, the new value cannot be unseen.
    const ops = [w(0, 1, 0, 100), r(1, 1, 10, 20), r(2, 0, 30, 40)];
    const result = checkOperations(model, ops);
    expect(result.outcome).toBe('illegal');
    // Reading the other way round is fine.
    expect(
      checkOperations(model, [w(0, 1, 0, 100), r(1, 0, 10, 20), r(2, 1, 30, 40)]).outcome,
    ).toBe('ok');
  });

  it('stale read: a read that starts after a write returned must see it', () => {
    const result = explainResult(model, checkOperations(model, [w(0, 1, 0, 10), r(1, 0, 11, 20)]));
    expect(result.outcome).toBe('illegal');
    expect(result.partitions[0]?.partials[0]).toEqual([0]);
  });

  it('intervals that touch count as concurrent', () => {
    expect(checkOperations(model, [w(0, 1, 0, 10), r(1, 0, 10, 20)]).outcome).toBe('ok');
  });

  it('two concurrent writes: later reads must agree on the winner', () => {
    const both = [w(0, 1, 0, 10), w(1, 2, 0, 10)];
    expect(checkOperations(model, [...both, r(2, 1, 20, 30), r(2, 1, 40, 50)]).outcome).toBe('ok');
    expect(checkOperations(model, [...both, r(2, 2, 20, 30), r(2, 2, 40, 50)]).outcome).toBe('ok');
    expect(checkOperations(model, [...both, r(2, 1, 20, 30), r(2, 2, 40, 50)]).outcome).toBe(
      'illegal',
    );
  });

  it('a write with no return may take effect at any time after its call, or never', () => {
    const pending = w(0, 1, 5);
    expect(checkOperations(model, [pending, r(1, 0, 10, 20), r(1, 0, 1000, 1001)]).outcome).toBe(
      'ok',
    );
    expect(checkOperations(model, [pending, r(1, 1, 10, 20), r(1, 1, 1000, 1001)]).outcome).toBe(
      'ok',
    );
    expect(checkOperations(model, [pending, r(1, 0, 10, 20), r(1, 1, 1000, 1001)]).outcome).toBe(
      'ok',
    );
    // …but once seen it stays, and it cannot be seen before it was called.
    expect(checkOperations(model, [pending, r(1, 1, 10, 20), r(1, 0, 30, 40)]).outcome).toBe(
      'illegal',
    );
    expect(checkOperations(model, [r(1, 1, 0, 4), pending]).outcome).toBe('illegal');
  });

  it('return: Infinity and return: null also mean an unknown outcome', () => {
    const ops: Op[] = [
      { clientId: 0, input: { op: 'write', value: 7 }, call: 0, return: Number.POSITIVE_INFINITY },
      { clientId: 1, input: { op: 'write', value: 8 }, call: 0, return: null },
      r(2, 8, 10, 11),
      r(2, 7, 12, 13),
    ];
    const result = checkOperations(model, ops);
    expect(result.outcome).toBe('ok');
    expect(result.history.map((op) => op.pending)).toEqual([true, true, false, false]);
  });

  it('a custom initial value', () => {
    const named = registerModel<string>('empty');
    const read = (output: string): Operation<RegisterInput<string>, RegisterOutput<string>> => ({
      clientId: 0,
      input: { op: 'read' },
      call: 0,
      output,
      return: 1,
    });
    expect(checkOperations(named, [read('empty')]).outcome).toBe('ok');
    expect(checkOperations(named, [read('')]).outcome).toBe('illegal');
  });

  it('the event-list form gives the same answers', () => {
    const events = [
      { kind: 'call', id: 'a', clientId: 0, input: { op: 'write', value: 1 } },
      { kind: 'call', id: 'b', clientId: 1, input: { op: 'read' } },
      { kind: 'return', id: 'b', output: 0 },
      { kind: 'return', id: 'a' },
      { kind: 'call', id: 'c', clientId: 1, input: { op: 'read' } },
      { kind: 'return', id: 'c', output: 0 },
    ];
    const result = checkEvents(model, events as HistoryEvent<RegisterInput, RegisterOutput>[]);
    expect(result.outcome).toBe('illegal');
    expect(result.history.map((op) => [op.call, op.return])).toEqual([
      [0, 3],
      [1, 2],
      [4, 5],
    ]);
  });
});

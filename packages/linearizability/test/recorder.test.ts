import { describe, expect, it } from 'vitest';
import {
  assertLinearizable,
  checkOperations,
  HistoryRecorder,
  type KvClerk,
  type KvInput,
  type KvOutput,
  kvModel,
  recordKvClerk,
} from '../src/index.js';

/** An in-memory clerk; `append` returns the old value when `returnsOld`. */
function fakeClerk(store: Map<string, string>, returnsOld: boolean): KvClerk {
  return {
    get: async (key) => store.get(key) ?? '',
    put: async (key, value) => {
      store.set(key, value);
    },
    append: async (key, value) => {
      const old = store.get(key) ?? '';
      store.set(key, old + value);
      return returnsOld ? old : undefined;
    },
  };
}

describe('HistoryRecorder', () => {
  it('records calls and returns on a logical clock by default', async () => {
    const recorder = new HistoryRecorder<string, number>();
    const a = recorder.record(0, 'a', async () => 1);
    const b = recorder.record(1, 'b', async () => 2);
    await Promise.all([a, b]);
    expect(recorder.operations()).toEqual([
      { clientId: 0, input: 'a', call: 0, return: 2, output: 1 },
      { clientId: 1, input: 'b', call: 1, return: 3, output: 2 },
    ]);
    expect(recorder.size).toBe(2);
  });

  it('uses an injected clock', async () => {
    let now = 100;
    const recorder = new HistoryRecorder<string, string>({ now: () => now });
    const done = recorder.begin(3, 'x');
    now = 150;
    done('y');
    expect(recorder.operations()).toEqual([
      { clientId: 3, input: 'x', call: 100, return: 150, output: 'y' },
    ]);
    expect(() => done('again')).toThrow(/already completed/);
  });

  it('an operation that rejects or never completes has an unknown outcome', async () => {
    const recorder = new HistoryRecorder<string, string>();
    await expect(
      recorder.record(0, 'timeout', async () => Promise.reject(new Error('gave up'))),
    ).rejects.toThrow('gave up');
    void recorder.record(1, 'stuck', () => new Promise<string>(() => {}));
    const ops = recorder.operations();
    // The logical clock: call 0, gave up 1, call 2.
    expect(ops.map((op) => [op.input, op.return, op.output, op.gaveUp])).toEqual([
      ['timeout', undefined, undefined, 1],
      ['stuck', undefined, undefined, undefined],
    ]);
  });

  it('giveUp() notes when the client stopped waiting, once', () => {
    const recorder = new HistoryRecorder<string, string>();
    const done = recorder.begin(0, 'a');
    done.giveUp();
    expect(recorder.operations()[0]).toEqual({ clientId: 0, input: 'a', call: 0, gaveUp: 1 });
    expect(() => done('late')).toThrow(/already completed/);
    expect(() => done.giveUp()).toThrow(/already completed/);
  });

  it('operations() is a snapshot', async () => {
    const recorder = new HistoryRecorder<string, string>();
    const done = recorder.begin(0, 'a');
    const before = recorder.operations();
    done('b');
    expect(before[0]?.return).toBeUndefined();
    expect(recorder.operations()[0]?.return).toBe(1);
  });
});

describe('recordKvClerk', () => {
  it('records a kvraft-style clerk (append returns nothing) as kvModel operations', async () => {
    const store = new Map<string, string>();
    const recorder = new HistoryRecorder<KvInput, KvOutput>();
    const clerks = [0, 1, 2].map((id) => recordKvClerk(recorder, id, fakeClerk(store, false)));
    await Promise.all(
      clerks.map(async (ck, id) => {
        await ck.put(`k${id}`, 'a');
        await ck.append('shared', `<${id}>`);
        await ck.append(`k${id}`, 'b');
        expect(await ck.get(`k${id}`)).toBe('ab');
        await ck.get('shared');
      }),
    );
    const ops = recorder.operations();
    expect(ops).toHaveLength(15);
    expect(ops[0]).toEqual({
      clientId: 0,
      input: { op: 'put', key: 'k0', value: 'a' },
      call: 0,
      return: 3,
      output: undefined,
    });
    expect(
      ops.filter((op) => op.input.op === 'append').every((op) => op.output === undefined),
    ).toBe(true);
    const result = assertLinearizable(kvModel, ops);
    expect(result.outcome).toBe('ok');
    expect(result.partitions.map((p) => p.key)).toEqual(['k0', 'k1', 'k2', 'shared']);
  });

  it('records a kvsrv-style clerk: append returns the old value, which is checked', async () => {
    const store = new Map<string, string>();
    const recorder = new HistoryRecorder<KvInput, KvOutput>();
    const ck = recordKvClerk(recorder, 0, fakeClerk(store, true), { appendReturnsOld: true });
    expect(await ck.append('k', 'x')).toBe('');
    expect(await ck.append('k', 'y')).toBe('x');
    const ops = recorder.operations();
    expect(ops.map((op) => [op.input.op, op.output])).toEqual([
      ['appendReturnsOld', ''],
      ['appendReturnsOld', 'x'],
    ]);
    expect(checkOperations(kvModel, ops).outcome).toBe('ok');
    // A server that returned the wrong old value is caught.
    ops[1] = { ...(ops[1] as (typeof ops)[number]), output: 'wrong' };
    expect(checkOperations(kvModel, ops).outcome).toBe('illegal');
  });

  it('a clerk call that fails is recorded with an unknown outcome and rethrown', async () => {
    const recorder = new HistoryRecorder<KvInput, KvOutput>();
    const broken: KvClerk = {
      get: async () => '',
      put: async () => {
        throw new Error('partitioned');
      },
      append: async () => undefined,
    };
    const ck = recordKvClerk(recorder, 7, broken);
    await expect(ck.put('k', 'v')).rejects.toThrow('partitioned');
    await ck.get('k');
    const ops = recorder.operations();
    expect(ops[0]?.return).toBeUndefined();
    // The put may or may not have happened: reading "" is fine.
    expect(checkOperations(kvModel, ops).outcome).toBe('ok');
  });
});

import { describe, expect, it } from 'vitest';
import {
  checkOperations,
  formatResult,
  HistoryError,
  type KvInput,
  type KvOutput,
  kvModel,
  type Operation,
} from '../src/index.js';

type Op = Operation<KvInput, KvOutput>;
const get = (clientId: number, key: string, output: string, call: number, ret: number): Op => ({
  clientId,
  input: { op: 'get', key },
  call,
  output,
  return: ret,
});
const put = (clientId: number, key: string, value: string, call: number, ret?: number): Op => ({
  clientId,
  input: { op: 'put', key, value },
  call,
  ...(ret === undefined ? {} : { return: ret }),
});
const append = (clientId: number, key: string, value: string, call: number, ret?: number): Op => ({
  clientId,
  input: { op: 'append', key, value },
  call,
  ...(ret === undefined ? {} : { return: ret }),
});
/** kvsrv's append: returns the value before it. */
const appendOld = (
  clientId: number,
  key: string,
  value: string,
  old: string | undefined,
  call: number,
  ret?: number,
): Op => ({
  clientId,
  input: { op: 'appendReturnsOld', key, value },
  call,
  ...(ret === undefined ? {} : { return: ret, output: old }),
});

describe('KV model', () => {
  it('a missing key reads as ""; put replaces; append appends', () => {
    const ops = [
      get(0, 'k', '', 0, 1),
      put(0, 'k', 'a', 2, 3),
      append(0, 'k', 'b', 4, 5),
      get(0, 'k', 'ab', 6, 7),
    ];
    expect(checkOperations(kvModel, ops).outcome).toBe('ok');
  });

  it('stale read: a get after a put returned must see it', () => {
    const result = checkOperations(kvModel, [put(0, 'k', 'v', 0, 10), get(1, 'k', '', 11, 20)]);
    expect(result.outcome).toBe('illegal');
    expect(formatResult(kvModel, result)).toMatch(
      /#1 client 1: get\("k"\) → "" \[11 \.\. 20\]: can never become legal from this state/,
    );
  });

  describe('kvraft / shardkv append (returns nothing)', () => {
    it('concurrent appends land in either order', () => {
      const both = [append(0, 'k', 'a', 0, 10), append(1, 'k', 'b', 0, 10)];
      expect(checkOperations(kvModel, [...both, get(2, 'k', 'ab', 20, 30)]).outcome).toBe('ok');
      expect(checkOperations(kvModel, [...both, get(2, 'k', 'ba', 20, 30)]).outcome).toBe('ok');
    });

    it('lost update: a get after both appends returned must see both', () => {
      const ops = [
        append(0, 'k', 'a', 0, 10),
        append(1, 'k', 'b', 0, 10),
        get(2, 'k', 'a', 20, 30),
      ];
      const result = checkOperations(kvModel, ops, { explain: true });
      expect(result.outcome).toBe('illegal');
      expect(result.partitions[0]?.partials[0]).toHaveLength(2);
    });

    it('an append applied twice is caught', () => {
      const ops = [append(0, 'k', 'a', 0, 10), get(1, 'k', 'aa', 20, 30)];
      expect(checkOperations(kvModel, ops).outcome).toBe('illegal');
    });

    it('overlapping gets see a consistent order of concurrent appends', () => {
      const ops = [
        append(0, 'k', 'a', 0, 100),
        append(1, 'k', 'b', 0, 100),
        get(2, 'k', 'a', 10, 20),
        get(3, 'k', 'b', 10, 20),
      ];
      expect(checkOperations(kvModel, ops).outcome).toBe('illegal');
      const fine = [...ops.slice(0, 3), get(3, 'k', 'ab', 30, 40)];
      expect(checkOperations(kvModel, fine).outcome).toBe('ok');
    });
  });

  describe('kvsrv append (returns the old value)', () => {
    it('each append returns the value before it', () => {
      const ops = [
        appendOld(0, 'k', 'a', '', 0, 1),
        appendOld(0, 'k', 'b', 'a', 2, 3),
        get(0, 'k', 'ab', 4, 5),
      ];
      expect(checkOperations(kvModel, ops).outcome).toBe('ok');
    });

    it('concurrent appends: the returned old values fix the order', () => {
      const ops = [appendOld(0, 'k', 'a', 'b', 0, 10), appendOld(1, 'k', 'b', '', 0, 10)];
      expect(checkOperations(kvModel, [...ops, get(2, 'k', 'ba', 20, 30)]).outcome).toBe('ok');
      expect(checkOperations(kvModel, [...ops, get(2, 'k', 'ab', 20, 30)]).outcome).toBe('illegal');
    });

    it('lost update: two appends cannot both see the empty value', () => {
      const ops = [appendOld(0, 'k', 'a', '', 0, 10), appendOld(1, 'k', 'b', '', 0, 10)];
      expect(checkOperations(kvModel, ops).outcome).toBe('illegal');
    });

    it('a resent append that returned a different old value is caught', () => {
      const ops = [
        appendOld(0, 'k', 'a', '', 0, 10),
        appendOld(1, 'k', 'b', 'a', 11, 20),
        appendOld(0, 'k', 'c', 'a', 21, 30),
      ];
      expect(checkOperations(kvModel, ops).outcome).toBe('illegal');
    });

    it('an append with unknown outcome returns nothing to check', () => {
      const ops = [
        appendOld(0, 'k', 'a', undefined, 0),
        appendOld(1, 'k', 'b', 'a', 10, 20),
        get(2, 'k', 'ab', 30, 40),
      ];
      expect(checkOperations(kvModel, ops).outcome).toBe('ok');
    });
  });

  it('a put or append with unknown outcome may or may not have taken effect', () => {
    const lost = put(0, 'k', 'x', 0);
    expect(checkOperations(kvModel, [lost, get(1, 'k', '', 10, 20)]).outcome).toBe('ok');
    expect(checkOperations(kvModel, [lost, get(1, 'k', 'x', 10, 20)]).outcome).toBe('ok');
    const app = append(0, 'k', 'y', 5);
    expect(
      checkOperations(kvModel, [
        put(1, 'k', 'a', 0, 1),
        app,
        get(1, 'k', 'a', 10, 20),
        get(1, 'k', 'ay', 30, 40),
      ]).outcome,
    ).toBe('ok');
    expect(
      checkOperations(kvModel, [
        put(1, 'k', 'a', 0, 1),
        app,
        get(1, 'k', 'ay', 10, 20),
        get(1, 'k', 'a', 30, 40),
      ]).outcome,
    ).toBe('illegal');
  });

  it('checks each key separately and reports partitions in key order', () => {
    const ops = [
      put(0, 'b', '1', 0, 10),
      get(1, 'b', '', 20, 30), // stale: illegal
      put(0, 'a', '1', 0, 10),
      get(1, 'a', '1', 20, 30),
      get(2, '10', '', 0, 1),
    ];
    const result = checkOperations(kvModel, ops);
    expect(result.outcome).toBe('illegal');
    expect(result.partitions.map((p) => [p.key, p.outcome, p.operations])).toEqual([
      ['10', 'ok', [4]],
      ['a', 'ok', [2, 3]],
      ['b', 'illegal', [0, 1]],
    ]);
  });

  it('stopOnIllegal leaves the remaining partitions unchecked', () => {
    const ops = [
      put(0, 'a', '1', 0, 10),
      get(1, 'a', '', 20, 30),
      put(0, 'b', '1', 0, 10),
      get(0, 'b', '1', 20, 30),
      put(0, 'b', '2', 40, 50),
    ];
    const result = checkOperations(kvModel, ops, { stopOnIllegal: true });
    expect(result.outcome).toBe('illegal');
    expect(result.partitions.map((p) => [p.key, p.outcome])).toEqual([
      ['a', 'illegal'],
      ['b', 'unknown'],
    ]);
  });

  it('rejects inputs and outputs of the wrong shape with HistoryError', () => {
    const bad = (input: unknown, output?: unknown): Op[] => [
      { clientId: 0, input: input as KvInput, call: 0, output: output as KvOutput, return: 1 },
    ];
    const cases: [Op[], RegExp][] = [
      [bad({ op: 'delete', key: 'k' }), /kv op must be one of/],
      [bad({ op: 'get' }, ''), /string key/],
      [bad({ op: 'put', key: 'k' }), /string value/],
      [bad({ op: 'get', key: 'k' }), /get returned nothing/],
      [bad({ op: 'appendReturnsOld', key: 'k', value: 'v' }, 3), /returned 3, expected a string/],
      [bad(null), /must be an object/],
    ];
    for (const [ops, message] of cases) {
      let error: unknown;
      try {
        checkOperations(kvModel, ops);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(HistoryError);
      expect((error as HistoryError).code).toBe('ERR_BAD_HISTORY');
      expect((error as HistoryError).index).toBe(0);
      expect((error as Error).message).toMatch(message);
    }
  });
});

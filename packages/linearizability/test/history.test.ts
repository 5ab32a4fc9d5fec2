import { describe, expect, it } from 'vitest';
import {
  checkEvents,
  checkOperations,
  HistoryError,
  type HistoryEvent,
  type Operation,
  registerModel,
} from '../src/index.js';

const model = registerModel(0);

function errorOf(run: () => unknown): HistoryError {
  try {
    run();
  } catch (err) {
    if (err instanceof HistoryError) return err;
    throw err;
  }
  throw new Error('expected a HistoryError');
}

describe('operation lists', () => {
  it('rejects malformed operations with the index of the offender', () => {
    const good = { clientId: 0, input: { op: 'read' }, call: 0, output: 0, return: 1 };
    const cases: [unknown, RegExp][] = [
      [{ ...good, clientId: -1 }, /clientId must be a non-negative integer/],
      [{ ...good, clientId: 1.5 }, /clientId/],
      [{ ...good, call: Number.NaN }, /call must be a finite number/],
      [{ ...good, call: '3' }, /call must be a finite number/],
      [{ ...good, return: -1 }, /returns \(-1\) before it is called \(0\)/],
      [{ ...good, return: 'soon' }, /return must be a number/],
      [
        { clientId: 0, input: { op: 'write', value: 1 }, call: 0, output: 5 },
        /no return cannot have an output/,
      ],
      [{ clientId: 0, call: 0, return: 1 }, /no input/],
      [42, /must be an object/],
    ];
    for (const [bad, message] of cases) {
      const error = errorOf(() => checkOperations(model, [good, bad] as Operation[]));
      expect(error.code).toBe('ERR_BAD_HISTORY');
      expect(error.index).toBe(1);
      expect(error.message).toMatch(message);
    }
    expect(errorOf(() => checkOperations(model, {} as Operation[])).message).toMatch(
      /must be an array/,
    );
  });

  it('an empty history is linearizable', () => {
    const result = checkOperations(model, []);
    expect(result.outcome).toBe('ok');
    expect(result.history).toEqual([]);
  });

  it('validates the time limit', () => {
    expect(() => checkOperations(model, [], { timeLimitMs: -1 })).toThrow(RangeError);
  });
});

describe('event lists', () => {
  const call = (id: number | string, clientId: number, input: unknown): HistoryEvent => ({
    kind: 'call',
    id,
    clientId,
    input,
  });
  const ret = (id: number | string, output?: unknown): HistoryEvent => ({
    kind: 'return',
    id,
    output,
  });

  it('numbers operations by call order and uses positions as times', () => {
    const result = checkEvents(model, [
      call(7, 0, { op: 'write', value: 1 }),
      call(3, 1, { op: 'read' }),
      ret(7),
      ret(3, 1),
    ]);
    expect(result.outcome).toBe('ok');
    expect(result.history).toEqual([
      {
        index: 0,
        clientId: 0,
        input: { op: 'write', value: 1 },
        call: 0,
        output: undefined,
        return: 2,
        pending: false,
      },
      {
        index: 1,
        clientId: 1,
        input: { op: 'read' },
        call: 1,
        output: 1,
        return: 3,
        pending: false,
      },
    ]);
  });

  it('a call with no return has an unknown outcome', () => {
    const result = checkEvents(model, [
      call('w', 0, { op: 'write', value: 1 }),
      call('r', 1, { op: 'read' }),
      ret('r', 1),
    ]);
    expect(result.outcome).toBe('ok');
    expect(result.history[0]?.pending).toBe(true);
    expect(result.history[0]?.return).toBe(Number.POSITIVE_INFINITY);
  });

  it('ids may be reused once the earlier operation returned', () => {
    const events = [
      call(1, 0, { op: 'write', value: 1 }),
      ret(1),
      call(1, 0, { op: 'read' }),
      ret(1, 1),
    ];
    expect(checkEvents(model, events).outcome).toBe('ok');
  });

  it('rejects events that do not pair up', () => {
    const cases: [HistoryEvent[], number, RegExp][] = [
      [[ret(1, 0)], 0, /has no open call/],
      [[call(1, 0, { op: 'read' }), call(1, 1, { op: 'read' })], 1, /already open/],
      [[call(1, 0, { op: 'read' }), ret(1, 0), ret(1, 0)], 2, /has no open call/],
      [[{ kind: 'start', id: 1 } as unknown as HistoryEvent], 0, /kind must be/],
      [
        [{ kind: 'call', id: {}, clientId: 0, input: {} } as unknown as HistoryEvent],
        0,
        /id must be a number or a string/,
      ],
      [[call(1, 0, { op: 'read' }), ret(1)], 1, /read returned nothing/],
    ];
    for (const [events, index, message] of cases) {
      const error = errorOf(() => checkEvents(model, events));
      expect(error.index).toBe(index);
      expect(error.message).toMatch(message);
    }
  });
});

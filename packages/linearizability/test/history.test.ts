import { describe, expect, it } from 'vitest';
import {
  checkEvents,
  checkOperations,
  HistoryError,
  type HistoryEvent,
  type Operation,
  registerModel,
  renderHtml,
  toJson,
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
      [{ ...good, gaveUp: 1 }, /both a return and gaveUp/],
      [
        { clientId: 0, input: { op: 'read' }, call: 5, gaveUp: 4 },
        /gives up \(4\) before it is called \(5\)/,
      ],
      [
        { clientId: 0, input: { op: 'read' }, call: 5, gaveUp: 'later' },
        /gaveUp must be a finite number/,
      ],
      [
        { clientId: 0, input: { op: 'read' }, call: 0, output: 0, gaveUp: 3 },
        /gaveUp cannot have an output/,
      ],
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

describe('operations that gave up', () => {
  const write = (value: number) => ({ op: 'write' as const, value });
  it('an operation that gave up may still take effect after it gave up, or never', () => {
    // The write gave up at 10; a read at 20..30 sees it (the request was still in flight).
    const seen: Operation[] = [
      { clientId: 0, input: write(1), call: 0, gaveUp: 10 },
      { clientId: 1, input: { op: 'read' }, call: 20, output: 1, return: 30 },
    ];
    expect(checkOperations(model, seen).outcome).toBe('ok');
    const never: Operation[] = [
      { clientId: 0, input: write(1), call: 0, gaveUp: 10 },
      { clientId: 1, input: { op: 'read' }, call: 20, output: 0, return: 30 },
    ];
    expect(checkOperations(model, never).outcome).toBe('ok');
    const result = checkOperations(model, seen);
    expect(result.history[0]).toMatchObject({ pending: true, gaveUp: 10, return: Infinity });
  });

  it('a read whose outcome is unknown is accepted, as a write is', () => {
    const ops: Operation[] = [
      { clientId: 0, input: write(1), call: 0, return: 5 },
      { clientId: 1, input: { op: 'read' }, call: 6, gaveUp: 9 },
      { clientId: 2, input: { op: 'read' }, call: 6 },
    ];
    expect(checkOperations(model, ops).outcome).toBe('ok');
  });

  it('a gave-up event ends a call with an unknown outcome and frees its id', () => {
    const events: HistoryEvent[] = [
      { kind: 'call', id: 'a', clientId: 0, input: write(1) },
      { kind: 'gave-up', id: 'a' },
      { kind: 'call', id: 'a', clientId: 0, input: write(2) },
      { kind: 'return', id: 'a' },
      { kind: 'call', id: 'b', clientId: 1, input: { op: 'read' } },
      { kind: 'return', id: 'b', output: 1 },
    ];
    const result = checkEvents(model, events);
    expect(result.outcome).toBe('ok');
    expect(result.history[0]).toMatchObject({ pending: true, gaveUp: 1 });
    expect(errorOf(() => checkEvents(model, [{ kind: 'gave-up', id: 'x' }])).message).toMatch(
      /gave-up "x" has no open call/,
    );
  });

  it('gaveUp survives the JSON export and its re-check, and shows in the HTML tooltip', () => {
    const ops: Operation[] = [{ clientId: 0, input: write(1), call: 0, gaveUp: 10 }];
    const result = checkOperations(model, ops);
    const json = toJson(model, result);
    expect(json.operations[0]).toMatchObject({ return: null, gaveUp: 10 });
    expect(checkOperations(model, json.operations).history[0]?.gaveUp).toBe(10);
    expect(renderHtml(model, result)).toContain('gave up at 10');
  });
});

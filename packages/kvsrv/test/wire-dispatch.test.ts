/**
 * Bad input on `rpc.dispatch`: arguments of every wrong shape, unknown methods, keys and values
 * past the limits, and a fast-check property against a reference model. Each gets a typed
 * error or a refusal and changes nothing.
 */
import { type DispatchResult, RpcServer, silentLogger } from '@flotilla/transport';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { KvServer, type KvServerOptions } from '../src/index.js';
import { BAD_CASES, BIG, UNKNOWN_METHODS, wire } from './support/bad-input.js';
import { FUZZ_SEED } from './support/seed.js';

// ---------------------------------------------------------------------------------------------
// The server on rpc.dispatch

function dispatchSetup(options: KvServerOptions = {}) {
  const rpc = new RpcServer({ logger: silentLogger });
  const server = new KvServer(options).register(rpc);
  const dispatch = (method: string, args: unknown): DispatchResult => {
    const out = rpc.dispatch(method, wire(args), { peer: 'test' });
    if (out instanceof Promise) throw new Error('KvServer handlers must be synchronous');
    return out;
  };
  const call = (method: string, args: unknown) => dispatch(`KVServer.${method}`, args);
  return { rpc, server, dispatch, call };
}

/** A few keys written by two clerks, and the state to compare against afterwards. */
function seed(call: (method: string, args: unknown) => DispatchResult) {
  expect(call('Put', { key: 'k', value: 'v', clientId: 1, seq: 1 }).ok).toBe(true);
  expect(call('Append', { key: 'k', value: 'w', clientId: 2, seq: 1 })).toEqual({
    ok: true,
    reply: { value: 'v' },
  });
}

function snapshot(server: KvServer) {
  return { stats: server.stats, k: server.read('k'), kk: server.read('kk') };
}

describe('KvServer on rpc.dispatch', () => {
  test.each(BAD_CASES)('%s with %s → BAD_ARGUMENTS, nothing changes', (method, _what, args) => {
    const { server, call } = dispatchSetup();
    seed(call);
    const before = snapshot(server);
    const out = call(method, args);
    expect(out).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS' });
    expect(snapshot(server)).toEqual(before);
    // The clerks' next requests are still judged as before: 1's seq 1 is a duplicate, 2's
    // cached Append reply is still there.
    expect(call('Put', { key: 'k', value: 'other', clientId: 1, seq: 1 })).toEqual({
      ok: true,
      reply: {},
    });
    expect(call('Append', { key: 'k', value: 'w', clientId: 2, seq: 1 })).toEqual({
      ok: true,
      reply: { value: 'v' },
    });
    expect(snapshot(server)).toEqual(before);
  });

  test.each(UNKNOWN_METHODS)('%s → UNKNOWN_METHOD', (method) => {
    const { server, dispatch, call } = dispatchSetup();
    seed(call);
    const before = snapshot(server);
    expect(dispatch(method, { key: 'k', value: 'x', clientId: 3, seq: 1 })).toMatchObject({
      ok: false,
      code: 'UNKNOWN_METHOD',
    });
    expect(snapshot(server)).toEqual(before);
  });

  test('extra fields are ignored; a Get may carry both ids or neither', () => {
    const { call } = dispatchSetup();
    expect(
      call('Put', { key: 'k', value: 'v', clientId: 0, seq: 1, extra: { deep: [1] } }),
    ).toEqual({ ok: true, reply: {} });
    expect(call('Get', { key: 'k', clientId: 0, seq: 0, more: 1 })).toEqual({
      ok: true,
      reply: { value: 'v' },
    });
    expect(call('Get', { key: 'k', clientId: undefined, seq: undefined })).toEqual({
      ok: true,
      reply: { value: 'v' },
    });
    expect(call('Append', { key: 'k', value: '', clientId: BIG - 1, seq: BIG - 1 })).toEqual({
      ok: true,
      reply: { value: 'v' },
    });
  });

  test('keys and values past the limits are refused in UTF-8 bytes, and change nothing', () => {
    const { server, call } = dispatchSetup({ maxKeyBytes: 8, maxValueBytes: 16 });
    seed(call);
    const before = snapshot(server);
    const refusals: Array<[string, unknown, unknown]> = [
      ['Get', { key: 'k'.repeat(9) }, { err: 'KEY_TOO_LARGE', size: 9, limit: 8 }],
      ['Get', { key: 'é'.repeat(5) }, { err: 'KEY_TOO_LARGE', size: 10, limit: 8 }],
      [
        'Put',
        { key: 'k'.repeat(100_000), value: 'v', clientId: 3, seq: 1 },
        { err: 'KEY_TOO_LARGE', size: 100_000, limit: 8 },
      ],
      [
        'Put',
        { key: 'k', value: 'v'.repeat(17), clientId: 3, seq: 1 },
        { err: 'VALUE_TOO_LARGE', size: 17, limit: 16 },
      ],
      [
        'Append',
        { key: 'k', value: '€'.repeat(6), clientId: 3, seq: 1 },
        { err: 'VALUE_TOO_LARGE', size: 18, limit: 16 },
      ],
      // "vw" + 15 bytes: the value the Append would make is too large.
      [
        'Append',
        { key: 'k', value: 'x'.repeat(15), clientId: 3, seq: 1 },
        { err: 'VALUE_TOO_LARGE', size: 17, limit: 16 },
      ],
    ];
    for (const [method, args, reply] of refusals) {
      expect(call(method, args)).toEqual({ ok: true, reply });
    }
    expect(snapshot(server)).toEqual(before);
    // A refused request is not recorded: clerk 3 may send seq 1 again, and it is applied.
    expect(call('Append', { key: 'k', value: 'x'.repeat(14), clientId: 3, seq: 1 })).toEqual({
      ok: true,
      reply: { value: 'vw' },
    });
    expect(server.read('k')).toBe(`vw${'x'.repeat(14)}`);
    // Exactly at the limit is fine; one byte more is not.
    expect(call('Append', { key: 'k', value: 'y', clientId: 3, seq: 2 })).toMatchObject({
      reply: { err: 'VALUE_TOO_LARGE', size: 17 },
    });
    expect(call('Put', { key: 'k'.repeat(8), value: 'é'.repeat(8), clientId: 3, seq: 2 })).toEqual({
      ok: true,
      reply: {},
    });
  });

  test('property: random args never escape dispatch and match a reference model', () => {
    const limits = { maxKeyBytes: 8, maxValueBytes: 16 };
    fc.assert(
      fc.property(
        fc.array(commandArb, { minLength: 1, maxLength: 40, size: 'max' }),
        (commands) => {
          const { server, dispatch } = dispatchSetup(limits);
          const model = new ModelKv(limits.maxKeyBytes, limits.maxValueBytes);
          for (const command of commands) {
            let args: unknown;
            try {
              args = wire(command.args);
            } catch {
              continue; // Not msgpack-able: it cannot reach a server.
            }
            const before = model.snapshot(server);
            let out: DispatchResult;
            try {
              out = dispatch(`KVServer.${command.method}`, args);
            } catch (err) {
              throw new Error(`dispatch threw ${String(err)} for ${describeArgs(command)}`);
            }
            const expected = model.apply(command.method, args);
            if (expected.ok) {
              expect(out).toEqual(expected);
            } else {
              expect(out).toMatchObject({ ok: false, code: expected.code });
              // Ill-formed: nothing changed, in the server or the duplicate table.
              expect(model.snapshot(server)).toEqual(before);
            }
            expect(model.snapshot(server)).toEqual(model.expectedSnapshot());
          }
        },
      ),
      { seed: FUZZ_SEED, numRuns: 300 },
    );
  });
});

// The reference model: the lab's semantics, written from protocol.ts's comments, not its code.

type Expected =
  | { ok: true; reply: unknown }
  | { ok: false; code: 'BAD_ARGUMENTS' | 'UNKNOWN_METHOD' };

function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isId(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < BIG;
}

class ModelKv {
  readonly data = new Map<string, string>();
  readonly lastSeq = new Map<number, number>();
  readonly cached = new Map<number, string>();
  readonly touched = new Set<string>(['k', '__proto__', 'constructor', '']);

  constructor(
    readonly maxKey: number,
    readonly maxValue: number,
  ) {}

  apply(method: string, args: unknown): Expected {
    if (method === 'Get') return this.#get(args);
    if (method === 'Put' || method === 'Append') return this.#update(args, method === 'Append');
    return { ok: false, code: 'UNKNOWN_METHOD' };
  }

  #get(args: unknown): Expected {
    if (!isMap(args) || typeof args.key !== 'string') return { ok: false, code: 'BAD_ARGUMENTS' };
    const acked = args.clientId !== undefined || args.seq !== undefined;
    if (acked && !(isId(args.clientId) && isId(args.seq))) {
      return { ok: false, code: 'BAD_ARGUMENTS' };
    }
    this.touched.add(args.key);
    const keyBytes = Buffer.byteLength(args.key);
    if (keyBytes > this.maxKey) {
      return { ok: true, reply: { err: 'KEY_TOO_LARGE', size: keyBytes, limit: this.maxKey } };
    }
    if (acked) this.#ack(args.clientId as number, args.seq as number);
    return { ok: true, reply: { value: this.data.get(args.key) ?? '' } };
  }

  #update(args: unknown, append: boolean): Expected {
    if (
      !isMap(args) ||
      typeof args.key !== 'string' ||
      typeof args.value !== 'string' ||
      !isId(args.clientId) ||
      !isId(args.seq) ||
      args.seq === 0
    ) {
      return { ok: false, code: 'BAD_ARGUMENTS' };
    }
    const { key, value, clientId, seq } = args as {
      key: string;
      value: string;
      clientId: number;
      seq: number;
    };
    this.touched.add(key);
    const last = this.lastSeq.get(clientId) ?? 0;
    if (seq < last) return { ok: true, reply: { err: 'STALE' } };
    if (seq === last)
      return { ok: true, reply: append ? { value: this.cached.get(clientId) } : {} };
    this.#ack(clientId, seq - 1);
    const keyBytes = Buffer.byteLength(key);
    if (keyBytes > this.maxKey) {
      return { ok: true, reply: { err: 'KEY_TOO_LARGE', size: keyBytes, limit: this.maxKey } };
    }
    const valueBytes = Buffer.byteLength(value);
    if (valueBytes > this.maxValue) {
      return {
        ok: true,
        reply: { err: 'VALUE_TOO_LARGE', size: valueBytes, limit: this.maxValue },
      };
    }
    const old = this.data.get(key) ?? '';
    const next = append ? old + value : value;
    if (Buffer.byteLength(next) > this.maxValue) {
      const size = Buffer.byteLength(next);
      return { ok: true, reply: { err: 'VALUE_TOO_LARGE', size, limit: this.maxValue } };
    }
    if (next === '') this.data.delete(key);
    else this.data.set(key, next);
    this.lastSeq.set(clientId, seq);
    if (append) this.cached.set(clientId, old);
    else this.cached.delete(clientId);
    return { ok: true, reply: append ? { value: old } : {} };
  }

  /** The clerk saw its replies up to `seq`: the kept Append reply goes, if it is for those. */
  #ack(clientId: number, seq: number): void {
    if ((this.lastSeq.get(clientId) ?? 0) <= seq) this.cached.delete(clientId);
  }

  snapshot(server: KvServer) {
    return {
      stats: server.stats,
      values: [...this.touched].sort().map((key) => [key, server.read(key)]),
    };
  }

  expectedSnapshot() {
    return {
      stats: { keys: this.data.size, clients: this.lastSeq.size, cachedReplies: this.cached.size },
      values: [...this.touched].sort().map((key) => [key, this.data.get(key) ?? '']),
    };
  }
}

const weirdNumber = fc.constantFrom(-1, 1.5, -0, BIG, BIG - 1, 2 ** 64, Number.NaN, Infinity);
const idArb = fc.oneof(
  { weight: 18, arbitrary: fc.integer({ min: 0, max: 2 }) },
  { weight: 1, arbitrary: weirdNumber },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
);
const seqArb = fc.oneof(
  { weight: 18, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 1, arbitrary: weirdNumber },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
);
const keyArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('k', 'kk', '', '__proto__', 'constructor') },
  { weight: 3, arbitrary: fc.string({ maxLength: 9 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
);
const valueArb = fc.oneof(
  { weight: 12, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
);
const argsArb = fc.oneof(
  // Mostly complete requests (of which most are well-formed), so the state gets exercised…
  {
    weight: 12,
    arbitrary: fc.record({ key: keyArb, value: valueArb, clientId: idArb, seq: seqArb }),
  },
  { weight: 2, arbitrary: fc.record({ key: keyArb, clientId: idArb, seq: seqArb }) },
  { weight: 2, arbitrary: fc.record({ key: keyArb }) },
  // …and some with fields missing, or not maps at all.
  {
    weight: 2,
    arbitrary: fc.record(
      { key: keyArb, value: valueArb, clientId: idArb, seq: seqArb },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
);
const commandArb = fc.record({
  method: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom('Get', 'Put', 'Append') },
    { weight: 1, arbitrary: fc.constantFrom('Delete', 'get', '', 'constructor', '__proto__') },
  ),
  args: argsArb,
});

function describeArgs(command: { method: string; args: unknown }): string {
  try {
    return `${command.method} ${JSON.stringify(command.args)}`;
  } catch {
    return command.method;
  }
}

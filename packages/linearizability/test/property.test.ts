import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CasRegisterInput,
  type CasRegisterOutput,
  casRegisterModel,
  checkOperations,
  type KvInput,
  type KvOutput,
  kvMapModel,
  kvModel,
  type Model,
  type Operation,
  registerModel,
} from '../src/index.js';
import { bruteForceLinearizable } from './support/brute-force.js';
import { corruptOneRead, kvHistory, type OpSpec, registerHistory } from './support/histories.js';

/** A fraction in [0, 1), uniform (fast-check's doubles favour edge values). */
const fraction = fc.noBias(fc.nat({ max: 999 })).map((k) => k / 1000);

const spec = (clients: number, keys: number, pendingRate: number): fc.Arbitrary<OpSpec> =>
  fc.record({
    client: fc.nat({ max: clients - 1 }),
    kind: fraction,
    key: fc.nat({ max: keys - 1 }),
    think: fc.nat({ max: 4 }),
    duration: fc.integer({ min: 1, max: 30 }),
    at: fraction,
    fate: fraction.map((p): OpSpec['fate'] =>
      p < pendingRate / 2 ? 'applied' : p < pendingRate ? 'lost' : 'done',
    ),
  });

const specs = fc.array(spec(6, 3, 0.1), { minLength: 1, maxLength: 60 });

describe('properties', () => {
  it('a history run against the sequential KV model, with random overlaps, is linearizable', () => {
    fc.assert(
      fc.property(specs, fc.boolean(), (s, appendReturnsOld) => {
        const ops = kvHistory(s, { appendReturnsOld });
        expect(checkOperations(kvModel, ops).outcome).toBe('ok');
      }),
      { numRuns: 300 },
    );
  });

  it('changing one KV read to a value never written makes it illegal', () => {
    fc.assert(
      fc.property(specs, fc.boolean(), fraction, (s, appendReturnsOld, pick) => {
        const ops = kvHistory(s, { appendReturnsOld });
        // '#' never occurs in written values.
        const changed = corruptOneRead(ops, pick, 'never#written');
        fc.pre(changed >= 0);
        const result = checkOperations(kvModel, ops);
        expect(result.outcome).toBe('illegal');
        const bad = result.partitions.find((p) => p.outcome === 'illegal');
        expect(bad?.operations).toContain(changed);
      }),
      { numRuns: 300 },
    );
  });

  it('the same holds for the register model', () => {
    const model = registerModel(0);
    fc.assert(
      fc.property(specs, fraction, (s, pick) => {
        const ops = registerHistory(s);
        expect(checkOperations(model, ops).outcome).toBe('ok');
        fc.pre(corruptOneRead(ops, pick, -1) >= 0);
        expect(checkOperations(model, ops).outcome).toBe('illegal');
      }),
      { numRuns: 300 },
    );
  });
});

/** Random small histories, linearizable or not: random times, random outputs. */
function randomHistory<I, O>(
  input: fc.Arbitrary<I>,
  output: (input: I) => fc.Arbitrary<O | undefined>,
): fc.Arbitrary<Operation<I, O>[]> {
  const op = fc
    .record({
      clientId: fc.nat({ max: 3 }),
      input,
      // Unbiased, so that operations are spread out rather than mostly overlapping.
      call: fc.noBias(fc.nat({ max: 40 })),
      length: fc.noBias(fc.nat({ max: 10 })),
      pending: fc.noBias(fc.nat({ max: 99 })).map((p) => p < 15),
    })
    .chain(({ clientId, input, call, length, pending }) =>
      pending
        ? fc.constant<Operation<I, O>>({ clientId, input, call })
        : output(input).map(
            (out): Operation<I, O> => ({
              clientId,
              input,
              call,
              output: out,
              return: call + length,
            }),
          ),
    );
  return fc.array(op, { minLength: 1, maxLength: 6 });
}

function agreesWithBruteForce<S, I, O>(
  model: Model<S, I, O>,
  history: fc.Arbitrary<Operation<I, O>[]>,
): void {
  let illegal = 0;
  let ok = 0;
  fc.assert(
    fc.property(history, (ops) => {
      const expected = bruteForceLinearizable(model, ops);
      const result = checkOperations(model, ops);
      expect(result.outcome).toBe(expected ? 'ok' : 'illegal');
      if (expected) ok++;
      else illegal++;
      if (result.outcome === 'ok') {
        // The reported linearization replays through the model.
        const order = result.partitions.flatMap((p) => p.partials[0] ?? []);
        expect([...order].sort((a, b) => a - b)).toEqual(ops.map((_, i) => i));
      }
    }),
    { numRuns: 2000 },
  );
  // Both kinds of history were exercised.
  expect(ok).toBeGreaterThan(150);
  expect(illegal).toBeGreaterThan(150);
}

describe('agreement with the definition (brute force over all orders)', () => {
  const value = fc.integer({ min: 0, max: 1 });

  it('register', () => {
    const input = fc.oneof(
      fc.constant({ op: 'read' as const }),
      value.map((v) => ({ op: 'write' as const, value: v })),
    );
    agreesWithBruteForce(
      registerModel(0),
      randomHistory(input, (i) => (i.op === 'read' ? value : fc.constant(undefined))),
    );
  });

  it('CAS register', () => {
    const input: fc.Arbitrary<CasRegisterInput> = fc.oneof(
      fc.constant({ op: 'read' as const }),
      value.map((v) => ({ op: 'write' as const, value: v })),
      fc.tuple(value, value).map(([from, to]) => ({ op: 'cas' as const, from, to })),
    );
    agreesWithBruteForce<number, CasRegisterInput, CasRegisterOutput>(
      casRegisterModel(0),
      randomHistory<CasRegisterInput, CasRegisterOutput>(input, (i) =>
        i.op === 'read'
          ? (value as fc.Arbitrary<CasRegisterOutput>)
          : i.op === 'cas'
            ? (fc.boolean() as fc.Arbitrary<CasRegisterOutput>)
            : fc.constant(undefined),
      ),
    );
  });

  it('KV, one key, both append forms', () => {
    const text = fc.constantFrom('a', 'b');
    const input: fc.Arbitrary<KvInput> = fc.oneof(
      fc.constant({ op: 'get' as const, key: 'k' }),
      text.map((v) => ({ op: 'put' as const, key: 'k', value: v })),
      text.map((v) => ({ op: 'append' as const, key: 'k', value: v })),
      text.map((v) => ({ op: 'appendReturnsOld' as const, key: 'k', value: v })),
    );
    const seen = fc.constantFrom('', 'a', 'b', 'ab', 'ba');
    agreesWithBruteForce<unknown, KvInput, KvOutput>(
      kvModel as Model<unknown, KvInput, KvOutput>,
      randomHistory(input, (i) =>
        i.op === 'get' || i.op === 'appendReturnsOld' ? seen : fc.constant(undefined),
      ),
    );
  });

  it('KV map (unpartitioned), two keys', () => {
    const text = fc.constantFrom('a', 'b');
    const key = fc.constantFrom('j', 'k');
    const input: fc.Arbitrary<KvInput> = fc.oneof(
      key.map((k) => ({ op: 'get' as const, key: k })),
      fc.tuple(key, text).map(([k, v]) => ({ op: 'put' as const, key: k, value: v })),
      fc.tuple(key, text).map(([k, v]) => ({ op: 'append' as const, key: k, value: v })),
    );
    const seen = fc.constantFrom('', 'a', 'b', 'ab');
    agreesWithBruteForce<unknown, KvInput, KvOutput>(
      kvMapModel as Model<unknown, KvInput, KvOutput>,
      randomHistory(input, (i) => (i.op === 'get' ? seen : fc.constant(undefined))),
    );
  });
});

describe('the unpartitioned KV model', () => {
  it('agrees with kvModel (key by key) on generated histories, ok and with one bad read', () => {
    fc.assert(
      fc.property(
        fc.array(spec(4, 3, 0.1), { minLength: 1, maxLength: 40 }),
        fraction,
        (s, pick) => {
          const ops = kvHistory(s);
          expect(checkOperations(kvMapModel, ops).outcome).toBe('ok');
          fc.pre(corruptOneRead(ops, pick, 'never#written') >= 0);
          expect(checkOperations(kvMapModel, ops).outcome).toBe('illegal');
          expect(checkOperations(kvModel, ops).outcome).toBe('illegal');
        },
      ),
      { numRuns: 200 },
    );
  });
});

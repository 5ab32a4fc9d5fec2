import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, ihash } from '../src/hash.js';
import { AppError, IntermediateError, wc } from '../src/index.js';
import { decodeRecordsInto, encodeRecords } from '../src/intermediate.js';
import { MapOutput } from '../src/map-output.js';

/** Any UTF-16 string, lone surrogates included. */
const anyString = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
});
/** Strings rich in the characters the format escapes. */
const trickyString = fc.string({
  unit: fc.constantFrom('a', '\t', '\n', '\\', 't', 'n', 'é', '😀'),
});

function fnv1aBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return (h >>> 0) & 0x7fffffff;
}

describe('ihash: the lab partition function', () => {
  it('is FNV-1a 32 & 0x7fffffff (known vectors)', () => {
    expect(ihash('')).toBe(0x811c9dc5 & 0x7fffffff);
    expect(ihash('a')).toBe(0xe40c292c & 0x7fffffff);
    expect(ihash('foobar')).toBe(0xbf9cf968 & 0x7fffffff);
    expect(bucketOf('foobar', 10)).toBe((0xbf9cf968 & 0x7fffffff) % 10);
  });

  it('hashes the UTF-8 bytes, as Go does', () => {
    fc.assert(
      fc.property(anyString, (s) => ihash(s) === fnv1aBytes(Buffer.from(s, 'utf8'))),
      { numRuns: 2000 },
    );
  });
});

describe('intermediate format', () => {
  it('round-trips any keys and values, appending to existing groups', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(trickyString, anyString),
            fc.array(fc.oneof(trickyString, anyString), { minLength: 1 }),
          ),
        ),
        (records) => {
          const groups = new Map<string, string[]>();
          const n = decodeRecordsInto(encodeRecords(records), 'mr-0-0', groups);
          expect(n).toBe(records.length);
          const expected = new Map<string, string[]>();
          for (const [key, values] of records)
            expected.set(key, [...(expected.get(key) ?? []), ...values]);
          expect(groups).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes one compact line per key', () => {
    expect(
      encodeRecords([
        ['the', ['42']],
        ['a\tb', ['x\ny', 'back\\slash']],
      ]),
    ).toBe('the\t42\na\\tb\tx\\ny\tback\\\\slash\n');
  });

  it('rejects a torn or foreign file with IntermediateError naming it', () => {
    const groups = new Map<string, string[]>();
    expect(() => decodeRecordsInto('the\t42\nand\t1', 'mr-3-4', groups)).toThrow(
      new IntermediateError('mr-3-4 line 2: truncated (no newline)'),
    );
    expect(() => decodeRecordsInto('{"Key":"a","Value":"1"}\n', 'mr-0-1', groups)).toThrow(
      /not a key<TAB>values record/,
    );
    expect(() => decodeRecordsInto('a\\q\t1\n', 'mr-0-1', groups)).toThrow(/bad escape/);
  });
});

describe('MapOutput: grouping and the combiner', () => {
  it('with wc combine, writes one value per key whose sum is the count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 5000 }),
        (words) => {
          const out = new MapOutput(wc.combine);
          for (const w of words) out.emit(w, '1');
          const counts = new Map<string, string>();
          for (const [i, bucket] of out.buckets(3).entries()) {
            for (const [key, values] of bucket) {
              expect(bucketOf(key, 3)).toBe(i);
              expect(values).toHaveLength(1);
              counts.set(key, values[0] as string);
            }
          }
          const expected = new Map<string, string>();
          for (const w of words) expected.set(w, String(Number(expected.get(w) ?? 0) + 1));
          expect(counts).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('without a combiner keeps every value (as a multiset)', () => {
    const out = new MapOutput();
    const pairs: Array<[string, string]> = [
      ['k', 'x'],
      ['k', 'y'],
      ['k', 'x'],
      ['j', 'z'],
      ['k', 'x'],
    ];
    for (const [k, v] of pairs) out.emit(k, v);
    const all = out.buckets(1)[0] ?? [];
    expect(new Map(all.map(([k, vs]) => [k, [...vs].sort()]))).toEqual(
      new Map([
        ['k', ['x', 'x', 'x', 'y']],
        ['j', ['z']],
      ]),
    );
    expect(out.pairs).toBe(5);
  });

  it('keeps exactly the emitted values per key, whatever their mix', () => {
    const pair = fc.tuple(fc.constantFrom('k', 'j', 'i'), fc.constantFrom('1', '1', '1', 'x', 'y'));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 300 }), (pairs) => {
        const out = new MapOutput();
        for (const [k, v] of pairs) out.emit(k, v);
        const got = new Map<string, string[]>();
        for (const bucket of out.buckets(2))
          for (const [k, vs] of bucket) got.set(k, [...vs].sort());
        const expected = new Map<string, string[]>();
        for (const [k, v] of pairs) expected.set(k, [...(expected.get(k) ?? []), v]);
        for (const vs of expected.values()) vs.sort();
        expect(got).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('folds long lists of differing values as it goes, when there is a combiner', () => {
    let calls = 0;
    const out = new MapOutput((_k, values) => {
      calls++;
      return String(values.reduce((sum, v) => sum + Number(v), 0));
    });
    for (let i = 0; i < 5000; i++) out.emit('k', String(i % 7));
    expect(calls).toBeGreaterThan(1);
    const [, values] = (out.buckets(1)[0] as Array<[string, string[]]>)[0] as [string, string[]];
    let expected = 0;
    for (let i = 0; i < 5000; i++) expected += i % 7;
    expect(values).toEqual([String(expected)]);
  });

  it('refuses non-string pairs with AppError', () => {
    const out = new MapOutput();
    expect(() => out.emit('k', 1 as unknown as string)).toThrow(AppError);
    expect(() => out.addAll([{ key: 'k' }])).toThrow(/non-string pair/);
    expect(() => out.addAll([null])).toThrow(/not a \{ key, value \} pair/);
  });
});

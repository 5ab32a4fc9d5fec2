import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hasFields,
  isNonNegativeInteger,
  isPositiveInteger,
  isRecord,
  utf8BytesOver,
} from '../src/shape.js';

describe('shape guards', () => {
  it('isRecord: objects only, not arrays, byte buffers or null', () => {
    expect(isRecord({})).toBe(true);
    expect(isRecord(Object.create(null))).toBe(true);
    for (const v of [null, undefined, [], new Uint8Array(2), Buffer.from('x'), 'x', 1, true]) {
      expect(isRecord(v)).toBe(false);
    }
  });

  it('integers: safe, non-negative or positive', () => {
    expect([0, 1, 2 ** 53 - 1].every(isNonNegativeInteger)).toBe(true);
    expect([-1, 0.5, 2 ** 53, Number.NaN, Infinity, '1', null].some(isNonNegativeInteger)).toBe(
      false,
    );
    expect(isPositiveInteger(0)).toBe(false);
    expect(isPositiveInteger(1)).toBe(true);
  });

  it('hasFields checks each named field, a missing one as undefined', () => {
    const isPoint = (v: unknown) =>
      hasFields(v, { x: isNonNegativeInteger, y: isNonNegativeInteger });
    expect(isPoint({ x: 1, y: 2, z: 'ignored' })).toBe(true);
    expect(isPoint({ x: 1 })).toBe(false);
    expect(isPoint([1, 2])).toBe(false);
    expect(hasFields({}, { note: (n) => n === undefined || typeof n === 'string' })).toBe(true);
  });

  it('never throws, whatever the value', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        isRecord(v);
        hasFields(v, { a: isNonNegativeInteger, b: isPositiveInteger });
      }),
    );
  });

  it('utf8BytesOver counts UTF-8 bytes, and only when the string may be over the limit', () => {
    expect(utf8BytesOver('abc', 3)).toBe(0);
    expect(utf8BytesOver('abcd', 3)).toBe(4);
    expect(utf8BytesOver('é', 2)).toBe(0);
    expect(utf8BytesOver('éé', 3)).toBe(4);
    expect(utf8BytesOver('€', 3)).toBe(0);
    expect(utf8BytesOver('😀', 3)).toBe(4);
    expect(utf8BytesOver('', 0)).toBe(0);
  });
});

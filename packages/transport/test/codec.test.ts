import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CodecError, decode, encode } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;

/** Live heap and buffers after full collections, in MiB. */
function live(): { heap: number; buffers: number } {
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / MiB, buffers: m.arrayBuffers / MiB };
}

describe('codec', () => {
  it('round-trips values, and refuses functions', () => {
    const value = { a: [1, 'two', null, true], c: { d: 1.5 }, e: '' };
    expect(decode(encode(value))).toEqual(value);
    expect(() => encode({ f: () => 1 })).toThrow(CodecError);
    expect(() => decode(Buffer.from([0x92, 0x01]))).toThrow(CodecError); // truncated array
  });

  it('keeps no memory after encoding and decoding a 10 MiB value', () => {
    const before = live();
    let bytes: Buffer | undefined = encode({ value: 'x'.repeat(10 * MiB) });
    // msgpackr's reusable buffer grows to ~6× a message; the frame is a copy of its own size.
    expect(bytes.buffer.byteLength).toBe(bytes.length);
    let value: unknown = decode(bytes);
    bytes = undefined;
    // Not expect(value): an assertion may keep what it was given alive.
    const length = (value as { value: string }).value.length;
    value = undefined;
    const after = live();
    expect(length).toBe(10 * MiB);
    expect(after.buffers - before.buffers).toBeLessThan(1);
    expect(after.heap - before.heap).toBeLessThan(1);
    // Small messages after a large one still work (the buffer was swapped, not broken).
    for (let i = 0; i < 1000; i++) expect(decode(encode({ i }))).toEqual({ i });
  });
});

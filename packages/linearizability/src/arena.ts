/**
 * Typed arrays carved out of one allocation. V8 puts the store of a typed array over 64 bytes
 * off the heap, at about a microsecond apiece: on a history of a hundred operations the two
 * dozen arrays a search needs would cost more than the search itself.
 */
export function int32Arrays<const L extends readonly number[]>(
  ...lengths: L
): { [K in keyof L]: Int32Array } {
  const store = new Int32Array(lengths.reduce((sum, n) => sum + n, 0));
  return carve(lengths, (from, to) => store.subarray(from, to)) as { [K in keyof L]: Int32Array };
}

export function uint8Arrays<const L extends readonly number[]>(
  ...lengths: L
): { [K in keyof L]: Uint8Array } {
  const store = new Uint8Array(lengths.reduce((sum, n) => sum + n, 0));
  return carve(lengths, (from, to) => store.subarray(from, to)) as { [K in keyof L]: Uint8Array };
}

function carve<T>(lengths: readonly number[], view: (from: number, to: number) => T): T[] {
  const out: T[] = [];
  let at = 0;
  for (const n of lengths) {
    out.push(view(at, at + n));
    at += n;
  }
  return out;
}

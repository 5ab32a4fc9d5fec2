import type { HistoryOperation } from './types.js';

const NONE = -1;

/**
 * Identical pending operations are interchangeable. Two operations with no return and equal
 * inputs have the same effect wherever they are placed, and after both are called either can
 * take the other's place: so if a linearization puts the later-called one first, swapping the
 * two gives another linearization (the earlier-called one may go anywhere the later one could).
 * The search therefore only linearizes them in call order, which cuts the k! orders of k
 * identical unknown-outcome writes to one.
 *
 * Returns, for each operation (by id, in call order), the id of the previous pending operation
 * with an equal input, or -1. Inputs are compared by `canonicalKey`; inputs it cannot vouch
 * for are never twins.
 */
export function earlierTwins<I, O>(ops: readonly HistoryOperation<I, O>[]): Int32Array {
  const twin = new Int32Array(ops.length).fill(NONE);
  const last = new Map<string, number>();
  for (let id = 0; id < ops.length; id++) {
    const op = ops[id] as HistoryOperation<I, O>;
    if (!op.pending) continue;
    const key = canonicalKey(op.input);
    if (key === undefined) continue;
    const before = last.get(key);
    if (before !== undefined) twin[id] = before;
    last.set(key, id);
  }
  return twin;
}

const MAX_DEPTH = 8;

/**
 * A string that is equal for two values iff they are equal plain data: strings, finite
 * numbers, booleans, null, and arrays and plain objects of those (keys in any order).
 * `undefined` for anything else (a Map, a class instance, a bigint, a cycle too deep), since
 * two such values could print alike and still differ.
 */
export function canonicalKey(value: unknown, depth = 0): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // -0 and 0 differ under Object.is, which the built-in models compare with.
      return Number.isFinite(value) && !Object.is(value, -0) ? String(value) : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const item of value) {
      const key = canonicalKey(item, depth + 1);
      if (key === undefined) return undefined;
      parts.push(key);
    }
    return `[${parts.join(',')}]`;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const name of Object.keys(record).sort()) {
    const item = record[name];
    // An absent key and an undefined one read alike.
    if (item === undefined) continue;
    const key = canonicalKey(item, depth + 1);
    if (key === undefined) return undefined;
    parts.push(`${JSON.stringify(name)}:${key}`);
  }
  return `{${parts.join(',')}}`;
}

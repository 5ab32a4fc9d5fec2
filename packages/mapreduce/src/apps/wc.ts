import type { Emit, KeyValue } from '../app.js';
import { forEachWord } from './words.js';

/**
 * Word count (the lab's wc): map emits `(word, "1")` for every word; reduce writes how many.
 *
 * reduce and combine *sum* their values rather than counting them: with no combiner every value
 * is "1" and the sum is the count, and with the combiner a value is a partial count.
 */
export function map(_filename: string, contents: string, emit?: Emit): KeyValue[] | undefined {
  if (emit !== undefined) {
    forEachWord(contents, (word) => emit(word, '1'));
    return undefined;
  }
  const pairs: KeyValue[] = [];
  forEachWord(contents, (word) => pairs.push({ key: word, value: '1' }));
  return pairs;
}

export function reduce(_key: string, values: string[]): string {
  return String(sum(values));
}

export function combine(_key: string, values: string[]): string {
  return String(sum(values));
}

function sum(values: readonly string[]): number {
  let total = 0;
  for (const value of values) total += value === '1' ? 1 : Number(value);
  return total;
}

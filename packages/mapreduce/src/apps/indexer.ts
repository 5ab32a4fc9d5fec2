import type { Emit, KeyValue } from '../app.js';
import { forEachWord } from './words.js';

/**
 * Inverted index (the lab's indexer): map emits `(word, filename)` once per distinct word of a
 * file; reduce writes `"<n> <filenames sorted, joined by ,>"`. It has no combiner: a partial
 * list would be counted as one file.
 */
export function map(filename: string, contents: string, emit?: Emit): KeyValue[] | undefined {
  const words = new Set<string>();
  forEachWord(contents, (word) => words.add(word));
  if (emit !== undefined) {
    for (const word of words) emit(word, filename);
    return undefined;
  }
  return Array.from(words, (word) => ({ key: word, value: filename }));
}

export function reduce(_key: string, values: string[]): string {
  const sorted = [...values].sort();
  return `${sorted.length} ${sorted.join(',')}`;
}

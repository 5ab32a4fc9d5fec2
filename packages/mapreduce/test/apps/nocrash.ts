// The lab's nocrash: crash without the crashing; its output is the crash test's oracle.
import type { KeyValue } from '../../src/index.js';
import { sortedJoin } from './parallel.js';

export function map(filename: string, contents: string): KeyValue[] {
  return [
    { key: 'a', value: filename },
    // Go's len() counts bytes.
    { key: 'b', value: String(Buffer.byteLength(filename)) },
    { key: 'c', value: String(Buffer.byteLength(contents)) },
    { key: 'd', value: 'xyzzy' },
  ];
}

export function reduce(_key: string, values: string[]): string {
  return sortedJoin(values);
}

// The lab's rtiming: keys a..j; each reduce reports how many reduces ran at the same moment.
import type { KeyValue } from '../../src/index.js';
import { nparallel } from './parallel.js';

export function map(_filename: string, _contents: string): KeyValue[] {
  return 'abcdefghij'.split('').map((key) => ({ key, value: '1' }));
}

export async function reduce(_key: string, _values: string[]): Promise<string> {
  return String(await nparallel('reduce'));
}

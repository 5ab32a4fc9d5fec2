// The lab's early_exit: reduce sleeps 3 s on some keys, so a worker or coordinator that exits
// before every reduce is finished is caught with output still changing.
import type { KeyValue } from '../../src/index.js';
import { sleep } from './parallel.js';

export function map(filename: string, _contents: string): KeyValue[] {
  return [{ key: filename, value: '1' }];
}

export async function reduce(key: string, values: string[]): Promise<string> {
  if (key.includes('sherlock') || key.includes('tom')) await sleep(3000);
  return String(values.length);
}

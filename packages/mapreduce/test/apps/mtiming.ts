// The lab's mtiming: reports when each map started and how many maps ran at the same moment.
import type { KeyValue } from '../../src/index.js';
import { nparallel, sortedJoin } from './parallel.js';

export async function map(_filename: string, _contents: string): Promise<KeyValue[]> {
  const startedAt = Date.now() / 1000;
  const n = await nparallel('map');
  return [
    { key: `times-${process.pid}`, value: startedAt.toFixed(1) },
    { key: `parallel-${process.pid}`, value: String(n) },
  ];
}

export function reduce(_key: string, values: string[]): string {
  return sortedJoin(values);
}

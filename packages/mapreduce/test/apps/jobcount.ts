// The lab's jobcount: each map call leaves a unique marker file and sleeps 2–5 s; reduce counts
// the markers, i.e. how many map calls ran in total (8 when no task ran twice).
import { readdirSync, writeFileSync } from 'node:fs';
import type { KeyValue } from '../../src/index.js';
import { sleep } from './parallel.js';

let count = 0;

export async function map(_filename: string, _contents: string): Promise<KeyValue[]> {
  writeFileSync(`mr-worker-jobcount-${process.pid}-${count++}`, 'x');
  await sleep(2000 + Math.floor(Math.random() * 3000));
  return [{ key: 'a', value: 'x' }];
}

export function reduce(_key: string, _values: string[]): string {
  return String(readdirSync('.').filter((name) => name.startsWith('mr-worker-jobcount')).length);
}

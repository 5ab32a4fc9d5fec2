// The lab's crash: before each map and reduce call, a third of the time the worker process
// exits, a third of the time it sleeps up to 10 s. Otherwise the same as nocrash.
import type { KeyValue } from '../../src/index.js';
import * as nocrash from './nocrash.js';
import { sleep } from './parallel.js';

async function maybeCrash(): Promise<void> {
  const r = Math.floor(Math.random() * 1000);
  if (r < 330) process.exit(1);
  if (r < 660) await sleep(Math.floor(Math.random() * 10_000));
}

export async function map(filename: string, contents: string): Promise<KeyValue[]> {
  await maybeCrash();
  return nocrash.map(filename, contents);
}

export async function reduce(key: string, values: string[]): Promise<string> {
  await maybeCrash();
  return nocrash.reduce(key, values);
}

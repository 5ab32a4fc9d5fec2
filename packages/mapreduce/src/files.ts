import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeError, OutputWriteError } from './errors.js';

/** `mr-X-Y`: map task X's pairs for reduce bucket Y. */
export function intermediateName(mapTask: number, reduceTask: number): string {
  return `mr-${mapTask}-${reduceTask}`;
}

/** `mr-out-Y`: reduce task Y's output. */
export function outputName(reduceTask: number): string {
  return `mr-out-${reduceTask}`;
}

let tempCounter = 0;

/**
 * Writes `data` to `path` so that `path` is either absent, its previous content, or all of
 * `data`: write a temp file in the same directory, then rename it over `path` (atomic on
 * POSIX). A worker that dies mid-write leaves only a temp file, named `.tmp-…` so that it
 * matches neither `mr-out-*` nor `mr-*-*`. No fsync: this guards against a crashed process,
 * not a lost machine (the lab's guarantee too).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.tmp-${basename(path)}-${process.pid}-${tempCounter++}`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    throw new OutputWriteError(`cannot write ${path}: ${describeError(err).message}`, {
      cause: err,
    });
  }
}

/** The `mr-out-*` files in `dir`, sorted by reduce task number. */
export async function listOutputs(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => /^mr-out-\d+$/.test(name));
  names.sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
  return names.map((name) => join(dir, name));
}

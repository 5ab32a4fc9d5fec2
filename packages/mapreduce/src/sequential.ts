import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { App, KeyValue } from './app.js';
import { AppError, describeError, InputReadError, MapReduceError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { isThenable } from './tasks.js';

export interface SequentialOptions {
  readonly app: App;
  /** Input files, as passed to map; read relative to `baseDir`. */
  readonly files: readonly string[];
  /** Where to write (default `mr-out-0` in the current directory). */
  readonly outFile?: string;
  readonly baseDir?: string;
}

export interface SequentialResult {
  readonly outFile: string;
  readonly files: number;
  readonly bytes: number;
  readonly pairs: number;
  readonly keys: number;
}

/**
 * The lab's `mrsequential`, the tests' oracle: map every file keeping every pair, sort all
 * pairs by key, call reduce once per key, write `key output` lines to one file. It never calls
 * the app's combiner, so the framework's combining is checked against plain MapReduce.
 */
export async function runSequential(options: SequentialOptions): Promise<SequentialResult> {
  const baseDir = options.baseDir ?? process.cwd();
  const outFile = resolve(baseDir, options.outFile ?? 'mr-out-0');
  const intermediate: KeyValue[] = [];
  let bytes = 0;
  for (const filename of options.files) {
    let contents: string;
    try {
      const data = await readFile(resolve(baseDir, filename));
      bytes += data.length;
      contents = data.toString('utf8');
    } catch (err) {
      throw new InputReadError(filename, `cannot read ${filename}: ${describeError(err).message}`, {
        cause: err,
      });
    }
    const emit = (key: string, value: string): void => {
      intermediate.push({ key, value });
    };
    try {
      let pairs = options.app.map(filename, contents, emit);
      if (isThenable(pairs)) pairs = await pairs;
      if (pairs) for (const pair of pairs) intermediate.push(pair);
    } catch (err) {
      throw appError(err, `map threw on ${filename}`);
    }
  }
  intermediate.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const lines: string[] = [];
  for (let i = 0; i < intermediate.length; ) {
    const key = (intermediate[i] as KeyValue).key;
    const values: string[] = [];
    let j = i;
    for (; j < intermediate.length && (intermediate[j] as KeyValue).key === key; j++) {
      values.push((intermediate[j] as KeyValue).value);
    }
    let out: unknown;
    try {
      out = options.app.reduce(key, values);
      if (isThenable(out)) out = await out;
    } catch (err) {
      throw appError(err, `reduce threw on key ${JSON.stringify(key)}`);
    }
    lines.push(`${key} ${String(out)}\n`);
    i = j;
  }
  await writeFileAtomic(outFile, lines.join(''));
  return {
    outFile,
    files: options.files.length,
    bytes,
    pairs: intermediate.length,
    keys: lines.length,
  };
}

function appError(err: unknown, what: string): MapReduceError {
  if (err instanceof MapReduceError) return err;
  return new AppError(`${what}: ${describeError(err).message}`, { cause: err });
}

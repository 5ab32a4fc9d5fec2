import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { App } from './app.js';
import {
  AppError,
  describeError,
  InputReadError,
  IntermediateError,
  MapReduceError,
} from './errors.js';
import { intermediateName, outputName, writeFileAtomic } from './files.js';
import { decodeRecordsInto, encodeRecords } from './intermediate.js';
import { MapOutput } from './map-output.js';

/** What a task did, reported to the coordinator. */
export interface TaskStats {
  /** Map: the input file's bytes. Reduce: the intermediate bytes read. */
  readonly inputBytes: number;
  /** Map: pairs emitted. Reduce: records read. */
  readonly records: number;
  /** Distinct keys: per map task, or reduced by a reduce task. */
  readonly keys: number;
  /** Bytes written (intermediate files, or mr-out-Y). */
  readonly outputBytes: number;
}

export interface MapTaskSpec {
  readonly taskId: number;
  /** The name map is called with (as given to the coordinator). */
  readonly filename: string;
  /** Where to read it. */
  readonly path: string;
  readonly nReduce: number;
  /** Where mr-X-Y go. */
  readonly dir: string;
}

export interface ReduceTaskSpec {
  readonly taskId: number;
  readonly nMap: number;
  readonly dir: string;
}

/** Runs map task X: reads its file, maps it, writes `mr-X-0` … `mr-X-(nReduce-1)`. */
export async function runMapTask(app: App, spec: MapTaskSpec): Promise<TaskStats> {
  let contents: string;
  let inputBytes: number;
  try {
    const bytes = await readFile(spec.path);
    inputBytes = bytes.length;
    contents = bytes.toString('utf8');
  } catch (err) {
    throw new InputReadError(
      spec.path,
      `cannot read input file ${spec.filename}: ${describeError(err).message}`,
      { cause: err },
    );
  }
  const output = new MapOutput(app.combine?.bind(app));
  try {
    let pairs = app.map(spec.filename, contents, output.emit);
    if (isThenable(pairs)) pairs = await pairs;
    if (pairs !== undefined && pairs !== null) {
      if (typeof (pairs as Iterable<unknown>)[Symbol.iterator] !== 'function') {
        throw new AppError('map returned something that is neither undefined nor iterable');
      }
      output.addAll(pairs as Iterable<unknown>);
    }
  } catch (err) {
    throw asAppError(err, `map threw on ${spec.filename}`);
  }
  const buckets = output.buckets(spec.nReduce);
  let outputBytes = 0;
  await Promise.all(
    buckets.map((records, reduceTask) => {
      const text = encodeRecords(records);
      outputBytes += Buffer.byteLength(text);
      return writeFileAtomic(join(spec.dir, intermediateName(spec.taskId, reduceTask)), text);
    }),
  );
  return { inputBytes, records: output.pairs, keys: output.keys, outputBytes };
}

/** Runs reduce task Y: reads `mr-*-Y`, reduces each key in sorted order, writes `mr-out-Y`. */
export async function runReduceTask(app: App, spec: ReduceTaskSpec): Promise<TaskStats> {
  const groups = new Map<string, string[]>();
  let inputBytes = 0;
  let records = 0;
  for (let mapTask = 0; mapTask < spec.nMap; mapTask++) {
    const name = intermediateName(mapTask, spec.taskId);
    let text: string;
    try {
      text = await readFile(join(spec.dir, name), 'utf8');
    } catch (err) {
      throw new IntermediateError(`cannot read ${name}: ${describeError(err).message}`, {
        cause: err,
      });
    }
    inputBytes += Buffer.byteLength(text);
    records += decodeRecordsInto(text, name, groups);
  }
  const keys = [...groups.keys()].sort();
  const lines = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    let out: unknown;
    try {
      out = app.reduce(key, groups.get(key) as string[]);
      if (isThenable(out)) out = await out;
    } catch (err) {
      throw asAppError(err, `reduce threw on key ${JSON.stringify(key)}`);
    }
    if (typeof out !== 'string') {
      throw new AppError(
        `reduce returned a ${typeof out} for key ${JSON.stringify(key)}, not a string`,
      );
    }
    lines[i] = `${key} ${out}\n`;
  }
  const text = lines.join('');
  await writeFileAtomic(join(spec.dir, outputName(spec.taskId)), text);
  return { inputBytes, records, keys: keys.length, outputBytes: Buffer.byteLength(text) };
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Our own errors pass through; anything else thrown by app code becomes an `AppError`. */
function asAppError(err: unknown, what: string): MapReduceError {
  if (err instanceof MapReduceError) return err;
  return new AppError(`${what}: ${describeError(err).message}`, { cause: err });
}

import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CoreCounts, JobFailure, MapInput } from './coordinator-core.js';
import { describeError, InputReadError, JobFailedError } from './errors.js';
import { outputName } from './files.js';

/** What the coordinator reports: progress while the job runs, a result when it is over. */

export interface ProgressSnapshot extends CoreCounts {
  readonly files: number;
  readonly bytes: number;
  /** Worker connections open right now. */
  readonly workersConnected: number;
  /** Distinct workers that have asked for work. */
  readonly workersSeen: number;
  /** Since the coordinator was made, or until the job ended. */
  readonly elapsedMs: number;
}

export interface JobSummary {
  readonly files: number;
  readonly bytes: number;
  readonly nReduce: number;
  readonly elapsedMs: number;
  /** Input MiB per second of elapsed time. */
  readonly mbPerSec: number;
  readonly reassigned: number;
  readonly failedAttempts: number;
  readonly duplicates: number;
  readonly workersSeen: number;
  readonly dir: string;
  /** mr-out-0 … mr-out-(nReduce-1), absolute. */
  readonly outputs: readonly string[];
}

export type JobResult =
  | { readonly ok: true; readonly summary: JobSummary }
  | {
      readonly ok: false;
      readonly summary: JobSummary;
      readonly error: JobFailedError;
      readonly failure: JobFailure;
    };

/** Stats every input file; throws `InputReadError` naming the first that cannot be read. */
export async function checkInputs(files: readonly string[], baseDir: string): Promise<MapInput[]> {
  return Promise.all(
    files.map(async (filename) => {
      const path = resolve(baseDir, filename);
      let info: Awaited<ReturnType<typeof stat>>;
      try {
        info = await stat(path);
        await access(path, constants.R_OK);
      } catch (err) {
        throw new InputReadError(
          path,
          `cannot read input file ${filename}: ${describeError(err).message}`,
        );
      }
      if (!info.isFile()) {
        throw new InputReadError(path, `cannot read input file ${filename}: not a regular file`);
      }
      return { filename, path, bytes: Number(info.size) };
    }),
  );
}

/** The summary of a job that is over, from the coordinator's last snapshot. */
export function summarize(p: ProgressSnapshot, nReduce: number, dir: string): JobSummary {
  const seconds = p.elapsedMs / 1000;
  return {
    files: p.files,
    bytes: p.bytes,
    nReduce,
    elapsedMs: p.elapsedMs,
    mbPerSec: seconds > 0 ? p.bytesMapped / 1048576 / seconds : 0,
    reassigned: p.reassigned,
    failedAttempts: p.failedAttempts,
    duplicates: p.duplicates,
    workersSeen: p.workersSeen,
    dir,
    outputs: Array.from({ length: nReduce }, (_, y) => join(dir, outputName(y))),
  };
}

/** The error a failed job reports: which task, how often, and its last error. */
export function jobFailedError(failure: JobFailure, maxTaskFailures: number): JobFailedError {
  const where = failure.filename === undefined ? '' : ` (${failure.filename})`;
  return new JobFailedError(
    `${failure.kind} task ${failure.taskId}${where} failed ${maxTaskFailures} times; ` +
      `last error from worker ${failure.workerId}: ${failure.code}: ${failure.message}`,
  );
}

import { describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli-args.js';
import { JobFailedError, type JobResult } from '../src/index.js';
import { formatSummary, renderProgress, summaryRecord } from '../src/progress.js';

const snapshot = {
  phase: 'reduce' as const,
  mapDone: 8,
  mapTotal: 8,
  reduceDone: 5,
  reduceTotal: 10,
  reassigned: 1,
  failedAttempts: 0,
  duplicates: 0,
  bytesMapped: 52_428_800,
  files: 8,
  bytes: 52_428_800,
  workersConnected: 2,
  workersSeen: 2,
  elapsedMs: 2000,
};

const summary = {
  files: 8,
  bytes: 52_428_800,
  nReduce: 10,
  elapsedMs: 2000,
  mbPerSec: 25,
  reassigned: 1,
  failedAttempts: 0,
  duplicates: 1,
  workersSeen: 2,
  dir: '/work',
  outputs: ['/work/mr-out-0'],
};

describe('progress bar and summary', () => {
  it('renders both phases, workers, reassignments, time and MB/s on one line', () => {
    expect(renderProgress(snapshot)).toBe(
      `map ${'█'.repeat(20)} 8/8  reduce ${'█'.repeat(10)}${'░'.repeat(10)} 5/10  workers 2  reassigned 1  2.00 s  25.0 MB/s`,
    );
  });

  it('summarizes a finished job for people and for machines', () => {
    const result: JobResult = { ok: true, summary };
    expect(formatSummary(result)).toBe(
      [
        'done: 8 files, 50.0 MiB in 2.00 s = 25.0 MB/s',
        'tasks: 8 map + 10 reduce; 1 reassigned after a timeout, 0 failed attempts, 1 redundant completions; 2 workers',
        'output: /work/mr-out-0 … mr-out-9',
      ].join('\n'),
    );
    expect(summaryRecord(result)).toMatchObject({
      event: 'done',
      ok: true,
      seconds: 2,
      mbPerSec: 25,
      reassigned: 1,
    });
  });

  it('summarizes a failed job with its error', () => {
    const error = new JobFailedError(
      'map task 3 (x) failed 3 times; last error from worker w: ERR_APP: boom',
    );
    const failure = {
      kind: 'map' as const,
      taskId: 3,
      filename: 'x',
      code: 'ERR_APP',
      message: 'boom',
      workerId: 'w',
    };
    const result: JobResult = { ok: false, summary, error, failure };
    expect(formatSummary(result)).toContain('error: ERR_JOB_FAILED: map task 3 (x) failed 3 times');
    expect(summaryRecord(result)).toMatchObject({
      event: 'failed',
      error: { code: 'ERR_JOB_FAILED' },
    });
  });
});

describe('command line', () => {
  it('parses each command with defaults', () => {
    expect(parseCli(['run', '--app', 'wc', 'a.txt', 'b.txt'], {})).toMatchObject({
      command: 'run',
      files: ['a.txt', 'b.txt'],
      workers: 2,
      nReduce: 10,
      taskTimeoutMs: 10_000,
      progress: undefined,
    });
    expect(
      parseCli(['worker', '--coordinator', 'ws://h:1', '--app', 'wc'], {
        FLOTILLA_AUTH_TOKEN: 's',
      }),
    ).toMatchObject({ command: 'worker', authToken: 's', connectTimeoutMs: undefined });
    expect(
      parseCli(
        ['worker', '--coordinator', 'ws://h:1', '--app', 'wc', '--connect-timeout', '0.5'],
        {},
      ).connectTimeoutMs,
    ).toBe(500);
    expect(
      parseCli(['coordinator', '--listen', '0.0.0.0:7000', '--no-progress', 'a'], {}),
    ).toMatchObject({
      listen: { host: '0.0.0.0', port: 7000 },
      progress: false,
    });
    expect(parseCli(['--help'], {}).command).toBe('help');
  });

  it('refuses bad usage with ERR_USAGE', () => {
    const bad: string[][] = [
      ['frobnicate'],
      ['run', 'a.txt'],
      ['run', '--app', 'wc'],
      ['worker', '--app', 'wc'],
      ['run', '--app', 'wc', '--workers', '0', 'a'],
      ['run', '--app', 'wc', '--task-timeout', 'soon', 'a'],
      ['coordinator', '--listen', 'nohost:99999', 'a'],
      ['run', '--bogus'],
    ];
    for (const argv of bad)
      expect(() => parseCli(argv, {}), argv.join(' ')).toThrow(
        expect.objectContaining({ code: 'ERR_USAGE' }),
      );
  });
});

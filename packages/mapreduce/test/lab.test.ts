import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testApp as app, expectExit, LabJob } from './support/lab-job.js';
import { sleep, sortedLines, sortedOutput } from './support/procs.js';

/**
 * The lab's test-mr.sh, section by section, with its numbers: real coordinator and worker
 * processes on 127.0.0.1 in a temp dir holding the 8 Gutenberg texts, each process under the
 * script's time limit (45 s; 120 s in the crash section). See ../../../shared/spec/mapreduce.md.
 */

const CRASH_LIMIT_MS = 120_000;
const job = new LabJob();

/** Runs the sequential runner (mrsequential) as a process; returns its sorted output lines. */
async function oracle(appSpec: string): Promise<string[]> {
  const out = 'mr-correct.txt';
  const seq = job.start('sequential', [
    'sequential',
    '--app',
    appSpec,
    '--out',
    out,
    ...job.lab.inputs,
  ]);
  expectExit(await seq.exited, seq, 0);
  return sortedLines(join(job.lab.work, out));
}

/** Coordinator + `n` workers of one app; waits for every process to exit on its own. */
async function runJob(appSpec: string, n: number): Promise<void> {
  const { coordinator, url } = await job.startCoordinator();
  const workers = Array.from({ length: n }, () => job.startWorker(url, appSpec));
  expectExit(await coordinator.exited, coordinator, 0);
  for (const worker of workers) expectExit(await worker.exited, worker, 0);
  expect(job.procs.all.filter((p) => p.running).map((p) => `${p.name} ${p.pid}`)).toEqual([]);
}

describe('the lab 1 script (test-mr.sh), section by section', () => {
  it('wc: 3 workers produce exactly the sequential word count', { timeout: 60_000 }, async () => {
    const expected = await oracle('wc');
    await runJob('wc', 3);
    const actual = await sortedOutput(job.lab.work);
    expect(actual.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  it('indexer: 2 workers produce exactly the sequential index', { timeout: 60_000 }, async () => {
    const expected = await oracle('indexer');
    await runJob('indexer', 2);
    const actual = await sortedOutput(job.lab.work);
    expect(actual.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  it('map parallelism: 2 mtiming workers both map, two maps at once', {
    timeout: 60_000,
  }, async () => {
    await runJob(app('mtiming'), 2);
    const lines = await sortedOutput(job.lab.work);
    // Exactly two workers' start times: both workers did maps.
    expect(lines.filter((line) => line.startsWith('times-'))).toHaveLength(2);
    // Some map saw two maps running at the same moment.
    expect(
      lines.some((line) => /^parallel.* 2/.test(line)),
      lines.join('\n'),
    ).toBe(true);
  });

  it('reduce parallelism: 2 rtiming workers reduce two at once', { timeout: 60_000 }, async () => {
    await runJob(app('rtiming'), 2);
    const lines = await sortedOutput(job.lab.work);
    expect(
      lines.filter((line) => /^[a-z] 2/.test(line)).length,
      lines.join('\n'),
    ).toBeGreaterThanOrEqual(2);
  });

  it('job count: 4 jobcount workers run each of the 8 map tasks exactly once', {
    timeout: 90_000,
  }, async () => {
    const { coordinator, url } = await job.startCoordinator();
    // As the script does: a pair (one in the background), then another pair once it is over.
    const first = [job.startWorker(url, app('jobcount')), job.startWorker(url, app('jobcount'))];
    for (const worker of first) expectExit(await worker.exited, worker, 0);
    const second = [job.startWorker(url, app('jobcount')), job.startWorker(url, app('jobcount'))];
    expectExit(await coordinator.exited, coordinator, 0);
    // The late pair finds the job over (told to exit) or the coordinator gone (exit 1: never
    // reached it); either way it must exit by itself.
    for (const worker of second) expectExit(await worker.exited, worker, 'any');
    const lines = await sortedOutput(job.lab.work);
    expect(lines).toEqual(['a 8']);
  });

  it('early exit: no process exits before the output is final', { timeout: 60_000 }, async () => {
    const { coordinator, url } = await job.startCoordinator();
    const workers = Array.from({ length: 3 }, () => job.startWorker(url, app('early_exit')));
    const all = [coordinator, ...workers];
    // As soon as any of them exits, the output must already be final.
    await Promise.race(all.map((p) => p.exited));
    const atFirstExit = await sortedOutput(job.lab.work);
    for (const p of all) expectExit(await p.exited, p, 0);
    const atEnd = await sortedOutput(job.lab.work);
    expect(atEnd).toHaveLength(8);
    expect(atFirstExit).toEqual(atEnd);
  });

  it('crash: 1 + 3 restarting crash workers produce exactly the nocrash output', {
    timeout: 150_000,
  }, async () => {
    const expected = await oracle(app('nocrash'));
    const { coordinator, url } = await job.startCoordinator({ limitMs: CRASH_LIMIT_MS });
    const standalone = job.startWorker(url, app('crash'), CRASH_LIMIT_MS);
    // Three loops restart a crash worker (1 s apart) whenever it dies, until the coordinator exits.
    const loop = async (): Promise<void> => {
      while (coordinator.running) {
        const worker = job.startWorker(url, app('crash'), CRASH_LIMIT_MS);
        expectExit(await worker.exited, worker, 'any');
        await sleep(1000);
      }
    };
    const loops = [loop(), loop(), loop()];
    expectExit(await coordinator.exited, coordinator, 0);
    await Promise.all(loops);
    expectExit(await standalone.exited, standalone, 'any');
    expect(job.procs.all.filter((p) => p.running).map((p) => `${p.name} ${p.pid}`)).toEqual([]);
    expect(await sortedOutput(job.lab.work)).toEqual(expected);
  });
});

import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApp, runSequential } from '../src/index.js';
import { testApp as app, expectExit, LabJob, LIMIT_MS } from './support/lab-job.js';
import {
  BUILT_CLI,
  isAlive,
  type Proc,
  sleep,
  sortedLines,
  sortedOutput,
} from './support/procs.js';

/**
 * Beyond the lab: what a user gets for a bad app path, an app that throws, an unreadable input
 * file, and that nothing is left running. Real processes, each under the lab's 45 s limit.
 */

const job = new LabJob();

/** A coordinator and two workers of `appSpec`: the job fails (exit 1), the workers exit 0. */
async function failingJob(appSpec: string): Promise<{ coordinator: Proc; workers: Proc[] }> {
  const { coordinator, url } = await job.startCoordinator();
  const workers = [0, 1].map(() => job.startWorker(url, appSpec));
  expectExit(await coordinator.exited, coordinator, 1);
  for (const worker of workers) expectExit(await worker.exited, worker, 0);
  return { coordinator, workers };
}

/** The coordinator's closing JSON record. */
function closing(coordinator: Proc): { event: string; error?: { code: string; message: string } } {
  return jsonRecords(coordinator).at(-1);
}

/** The JSON lines a `--json` process printed. */
// biome-ignore lint/suspicious/noExplicitAny: records of several shapes, checked by each test
function jsonRecords(proc: Proc): any[] {
  return proc.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

async function wcOracle(): Promise<string[]> {
  const { app: wc } = await loadApp('wc');
  const out = join(job.lab.root, 'oracle.txt');
  await runSequential({ app: wc, files: job.lab.inputs, baseDir: job.lab.work, outFile: out });
  return sortedLines(out);
}

const outputs = async (): Promise<string[]> =>
  (await readdir(job.lab.work)).filter((name) => name.startsWith('mr-out'));

describe('errors: clear messages, and the job finishes or fails cleanly', () => {
  it('bad app path: that worker exits 1 saying so; the job still finishes with a good worker', {
    timeout: 60_000,
  }, async () => {
    const { coordinator, url } = await job.startCoordinator();
    const bad = job.startWorker(url, './no-such-app.js');
    expectExit(await bad.exited, bad, 1);
    expect(bad.stderr).toContain('cannot load app "./no-such-app.js": no such file');
    const noReduce = job.startWorker(url, app('no-reduce'));
    expectExit(await noReduce.exited, noReduce, 1);
    expect(noReduce.stderr).toContain('must export functions map and reduce');
    const good = job.startWorker(url, 'wc');
    expectExit(await coordinator.exited, coordinator, 0);
    expectExit(await good.exited, good, 0);
    expect(await sortedOutput(job.lab.work)).toEqual(await wcOracle());
  });

  it('app that throws in map: the job fails after 3 attempts, naming the file and the error', {
    timeout: 60_000,
  }, async () => {
    const { coordinator, workers } = await failingJob(app('throws-in-map'));
    const record = closing(coordinator);
    expect(record.event).toBe('failed');
    expect(record.error?.code).toBe('ERR_JOB_FAILED');
    expect(record.error?.message).toMatch(
      /map task \d \(\.\.\/pg-grimm\.txt\) failed 3 times; .*ERR_APP: map threw on \.\.\/pg-grimm\.txt: refusing to map/,
    );
    // Each failed attempt was also logged by the worker that ran it.
    expect(workers.map((w) => w.stderr).join('')).toContain('refusing to map ../pg-grimm.txt');
    expect(await outputs()).toEqual([]);
  });

  it('app that throws in reduce: the job fails after 3 attempts, naming the key', {
    timeout: 60_000,
  }, async () => {
    const { coordinator } = await failingJob(app('throws-in-reduce'));
    expect(closing(coordinator).error?.message).toMatch(
      /reduce task \d failed 3 times; .*ERR_APP: reduce threw on key "Sherlock": cannot count Sherlock/,
    );
  });

  it('no coordinator: a worker gives up after 2 s of retrying, or --connect-timeout', {
    timeout: 60_000,
  }, async () => {
    // Nothing listens on the discard port: every attempt is refused at once, and retried.
    const url = 'ws://127.0.0.1:9';
    const prompt = job.startWorker(url, 'wc');
    const patient = job.start('worker', [
      'worker',
      '--coordinator',
      url,
      '--app',
      'wc',
      '--connect-timeout',
      '3.5',
    ]);
    const [promptExit, patientExit] = await Promise.all([prompt.exited, patient.exited]);
    expectExit(promptExit, prompt, 1);
    expect(prompt.stderr).toContain(`cannot reach the coordinator at ${url} within 2 s`);
    // Process start-up (tsx) included; the old default alone was 10 s.
    expect(promptExit.ms).toBeLessThan(9000);
    expectExit(patientExit, patient, 1);
    expect(patient.stderr).toContain('within 3.5 s');
    expect(patientExit.ms).toBeGreaterThanOrEqual(3500);
  });

  it('unreadable input file: the coordinator refuses to start, naming the file', {
    timeout: 60_000,
  }, async () => {
    const coordinator = job.start('coordinator', [
      'coordinator',
      ...job.lab.inputs,
      '../missing.txt',
    ]);
    expectExit(await coordinator.exited, coordinator, 1);
    expect(coordinator.stderr).toContain('cannot read input file ../missing.txt: ENOENT');
  });

  it('unreadable input file (removed after the start): map fails with ERR_INPUT_READ, the job fails cleanly', {
    timeout: 60_000,
  }, async () => {
    const { coordinator, url } = await job.startCoordinator();
    await rm(join(job.lab.root, 'pg-tom_sawyer.txt'));
    const worker = job.startWorker(url, 'wc');
    expectExit(await coordinator.exited, coordinator, 1);
    expectExit(await worker.exited, worker, 0);
    expect(closing(coordinator).error?.message).toMatch(
      /\(\.\.\/pg-tom_sawyer\.txt\) failed 3 times; .*ERR_INPUT_READ: cannot read input file \.\.\/pg-tom_sawyer\.txt: ENOENT/,
    );
  });
});

describe('run: the one-command form', () => {
  it('runs a coordinator and 2 workers, prints a summary, and matches the sequential output', {
    timeout: 60_000,
  }, async () => {
    const run = job.start('run', [
      'run',
      '--json',
      '--app',
      'wc',
      '--workers',
      '2',
      ...job.lab.inputs,
    ]);
    expectExit(await run.exited, run, 0);
    const records = jsonRecords(run);
    const pids = records.filter((r) => r.event === 'worker-started').map((r) => r.pid as number);
    expect(pids).toHaveLength(2);
    const done = records[records.length - 1];
    expect(done).toMatchObject({
      event: 'done',
      ok: true,
      files: 8,
      mapTasks: 8,
      reduceTasks: 10,
      reassigned: 0,
    });
    expect(done.bytes).toBe(3_301_104);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(await sortedOutput(job.lab.work)).toEqual(await wcOracle());
  });

  it.skipIf(!existsSync(BUILT_CLI))(
    'the built bin (dist/cli.js, the RPC stack bundled in) runs the job too',
    { timeout: 60_000 },
    async () => {
      const run = job.procs.start('run', ['run', '--json', '--app', 'wc', ...job.lab.inputs], {
        cwd: job.lab.work,
        limitMs: LIMIT_MS,
        entry: BUILT_CLI,
      });
      expectExit(await run.exited, run, 0);
      expect(jsonRecords(run).at(-1)).toMatchObject({
        event: 'done',
        ok: true,
      });
      expect(await sortedOutput(job.lab.work)).toEqual(await wcOracle());
    },
  );

  it('a bad app or a missing input fails run once, clearly, and leaves no worker behind', {
    timeout: 60_000,
  }, async () => {
    for (const [args, message] of [
      [['--app', './nope.js', ...job.lab.inputs], 'cannot load app "./nope.js": no such file'],
      [
        ['--app', 'wc', ...job.lab.inputs, '../missing.txt'],
        'cannot read input file ../missing.txt',
      ],
    ] as const) {
      const run = job.start('run', ['run', '--json', '--workers', '2', ...args]);
      expectExit(await run.exited, run, 1);
      const records = jsonRecords(run);
      const pids = records.filter((r) => r.event === 'worker-started').map((r) => r.pid as number);
      expect(pids).toHaveLength(2);
      expect(records[records.length - 1]).toMatchObject({ event: 'error' });
      expect(run.stderr.split(message)).toHaveLength(2); // said once, by run itself
      for (let i = 0; i < 100 && pids.some(isAlive); i++) await sleep(20);
      expect(pids.filter(isAlive)).toEqual([]);
    }
  });

  it('no orphans: SIGTERM to run kills its workers by pid', { timeout: 60_000 }, async () => {
    // early_exit's reduce sleeps, so the job is still going when run is killed.
    const run = job.start('run', [
      'run',
      '--json',
      '--app',
      app('early_exit'),
      '--workers',
      '2',
      ...job.lab.inputs,
    ]);
    let pids: number[] = [];
    while (pids.length < 2) {
      await sleep(50);
      pids = run.stdout
        .split('\n')
        .filter((line) => line.includes('"worker-started"'))
        .map((line) => JSON.parse(line).pid as number);
      expect(run.running, run.stderr).toBe(true);
    }
    await sleep(1000);
    expect(pids.filter(isAlive)).toHaveLength(2);
    process.kill(run.pid, 'SIGTERM');
    const exit = await run.exited;
    expect(exit.code).toBe(143);
    for (let i = 0; i < 100 && pids.some(isAlive); i++) await sleep(20);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});

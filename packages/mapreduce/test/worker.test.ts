import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NoReplyCode, realClock, silentLogger } from '@flotilla/transport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listOutputs } from '../src/files.js';
import {
  asApp,
  Coordinator,
  CoordinatorUnreachableError,
  runSequential,
  runWorker,
  wc,
} from '../src/index.js';
import { isNetworkFailure } from '../src/worker.js';

/** The worker loop in this process against a real coordinator over WebSocket. */

let dir: string;
let coordinator: Coordinator | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-mr-worker-'));
  const texts = [
    'the cat sat on the mat',
    'The dog ate the cat’s hat',
    'naïve café, ünïcödé Ωmega',
  ];
  await Promise.all(texts.map((text, i) => writeFile(join(dir, `in-${i}.txt`), text)));
});

afterEach(async () => {
  await coordinator?.close();
  coordinator = undefined;
  await rm(dir, { recursive: true, force: true });
});

const files = ['in-0.txt', 'in-1.txt', 'in-2.txt'];

async function start(nReduce = 3): Promise<string> {
  coordinator = await Coordinator.create({
    files,
    baseDir: dir,
    dir,
    nReduce,
    logger: silentLogger,
  });
  return coordinator.listen({ authToken: 't', logger: silentLogger });
}

async function concatenated(): Promise<string[]> {
  const lines: string[] = [];
  for (const path of await listOutputs(dir))
    lines.push(...(await readFile(path, 'utf8')).split('\n'));
  return lines.filter(Boolean).sort();
}

describe('runWorker', () => {
  it('two workers finish the job; the output equals the sequential runner', async () => {
    const url = await start();
    const [a, b] = await Promise.all([
      runWorker({ url, app: wc, authToken: 't', workerId: 'a' }),
      runWorker({ url, app: wc, authToken: 't', workerId: 'b' }),
    ]);
    expect([a.reason, b.reason]).toEqual(['done', 'done']);
    expect(a.tasksDone + b.tasksDone).toBe(3 + 3);
    const result = await coordinator?.result;
    expect(result?.ok).toBe(true);
    const seq = await runSequential({
      app: wc,
      files,
      baseDir: dir,
      outFile: join(dir, 'seq.txt'),
    });
    const expected = (await readFile(seq.outFile, 'utf8')).split('\n').filter(Boolean).sort();
    expect(await concatenated()).toEqual(expected);
    expect(expected).toContain('café 1');
    expect(expected).toContain('the 3');
  });

  it('exits with coordinator-gone within ~2 s when the coordinator goes away mid-job', async () => {
    const url = await start();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stuck = asApp({
      map: async () => {
        await gate;
        return [];
      },
      reduce: () => '',
    });
    const exit = runWorker({ url, app: stuck, authToken: 't', goneAfterMs: 500 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await coordinator?.close();
    const closedAt = realClock.now();
    release();
    expect(await exit).toMatchObject({ reason: 'coordinator-gone' });
    expect(realClock.now() - closedAt).toBeLessThan(2000);
  });

  it('reports a throwing app as a failed task and keeps going', async () => {
    const url = await start(1);
    const events: string[] = [];
    const flaky = asApp({
      map: (filename: string) => {
        if (filename === 'in-1.txt') throw new Error('no');
        return [{ key: filename, value: '1' }];
      },
      reduce: (_k: string, v: string[]) => String(v.length),
    });
    const exit = await runWorker({
      url,
      app: flaky,
      authToken: 't',
      onEvent: (e) => events.push(`${e.type} ${e.kind} ${e.taskId}`),
    });
    // Map 0 is done; map 1 is retried at once (lowest idle task) until the job fails.
    expect(exit).toEqual({ reason: 'failed', tasksDone: 1, tasksFailed: 3 });
    expect(events.filter((e) => e.startsWith('task-failed'))).toEqual([
      'task-failed map 1',
      'task-failed map 1',
      'task-failed map 1',
    ]);
    const result = await coordinator?.result;
    expect(result?.ok).toBe(false);
  });

  it('gives up with CoordinatorUnreachableError when nothing listens, or the token is wrong', async () => {
    await expect(
      runWorker({ url: 'ws://127.0.0.1:9', app: wc, connectTimeoutMs: 300 }),
    ).rejects.toBeInstanceOf(CoordinatorUnreachableError);
    const url = await start();
    await expect(
      runWorker({ url, app: wc, authToken: 'wrong', connectTimeoutMs: 2000 }),
    ).rejects.toThrow(/cannot reach the coordinator/);
  });

  it('retries after exactly the no-reply codes it always has: every one but the refusals', () => {
    // `satisfies` makes this list every code transport has, so a new one must be decided here.
    const retried = {
      DROPPED: true,
      UNREACHABLE: true,
      TIMEOUT: true,
      CONNECTION_LOST: true,
      CLOSED: true,
      OVERLOADED: true,
      AUTH_FAILED: false,
      UNKNOWN_METHOD: false,
      BAD_ARGUMENTS: false,
      HANDLER_ERROR: false,
      REPLY_TOO_LARGE: false,
      BAD_FRAME: false,
    } satisfies Record<NoReplyCode, boolean>;
    for (const [code, expected] of Object.entries(retried)) {
      expect(isNetworkFailure(code as NoReplyCode), code).toBe(expected);
    }
  });
});

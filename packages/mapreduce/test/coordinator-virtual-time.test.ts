import { describe, expect, it } from 'vitest';
import type { JobResult } from '../src/index.js';
import { PROTOCOL_VERSION } from '../src/protocol.js';
import { virtualCoordinator } from './support/virtual-coordinator.js';

/**
 * The Coordinator driver (deadline timer, long polls, the end of the job) in virtual time:
 * its handlers are called directly, the clock moves only when told.
 */

function harness(options: { longPollMs?: number } = {}) {
  const { clock, coordinator, request, report } = virtualCoordinator(options);
  const done = (workerId: string, kind: 'map' | 'reduce', taskId: number, attempt: number) =>
    report('reportDone', workerId, kind, taskId, attempt);
  return { clock, coordinator, request, done };
}

/** Lets promise continuations run, then says whether `p` has settled (and with what). */
async function peek<T>(p: Promise<T>): Promise<{ settled: boolean; value?: T }> {
  let state: { settled: boolean; value?: T } = { settled: false };
  p.then((value) => {
    state = { settled: true, value };
  });
  await new Promise((resolve) => setImmediate(resolve));
  return state;
}

describe('Coordinator in virtual time', () => {
  it('a waiting worker gets a stalled task exactly at the 10 s deadline', async () => {
    const { clock, request, done } = harness();
    expect(await request('A')).toMatchObject({
      kind: 'map',
      taskId: 0,
      attempt: 1,
      path: '/in/a.txt',
      nReduce: 1,
      dir: '/out',
    });
    expect(await request('B')).toMatchObject({ kind: 'map', taskId: 1, attempt: 1 });
    const c = request('C');
    clock.advance(9_999);
    expect((await peek(c)).settled).toBe(false);
    clock.advance(1);
    expect((await peek(c)).value).toMatchObject({ kind: 'map', taskId: 0, attempt: 2 });
    // A was slow, not dead: its completion counts; C's is redundant.
    expect(done('A', 'map', 0, 1)).toEqual({ accepted: true, exit: false });
    expect(done('C', 'map', 0, 2)).toEqual({ accepted: false, exit: false });
  });

  it('slow workers within the timeout are not duplicated (job count)', async () => {
    const { clock, coordinator, request, done } = harness();
    await request('A');
    await request('B');
    clock.advance(5_000); // the jobcount app's longest map
    done('A', 'map', 0, 1);
    done('B', 'map', 1, 1);
    expect(coordinator.progress()).toMatchObject({ reassigned: 0, mapDone: 2, phase: 'reduce' });
  });

  it('a long poll is answered with wait after longPollMs, and at once when a task appears', async () => {
    const { clock, request, done } = harness({ longPollMs: 2_000 });
    await request('A');
    await request('B');
    const idle = request('C');
    clock.advance(2_000);
    expect((await peek(idle)).value).toEqual({ kind: 'wait' });
    const waiting = request('C');
    clock.advance(500);
    done('A', 'map', 0, 1);
    done('B', 'map', 1, 1); // the map phase ends: a reduce task appears for C
    expect((await peek(waiting)).value).toMatchObject({
      kind: 'reduce',
      taskId: 0,
      attempt: 1,
      nMap: 2,
    });
  });

  it('ends the job: result, summary, and exit for every waiting worker', async () => {
    const { clock, coordinator, request, done } = harness();
    await request('A');
    await request('B');
    done('A', 'map', 0, 1);
    const waiting = request('A');
    done('B', 'map', 1, 1);
    expect((await peek(waiting)).value).toMatchObject({ kind: 'reduce' });
    const idle = request('B');
    clock.advance(3_000);
    expect(done('A', 'reduce', 0, 1)).toEqual({ accepted: true, exit: true });
    expect((await peek(idle)).value).toEqual({ kind: 'exit', reason: 'done' });
    expect(await request('C')).toEqual({ kind: 'exit', reason: 'done' });
    const result: JobResult = await coordinator.result;
    expect(result.ok).toBe(true);
    expect(result.summary).toMatchObject({
      files: 2,
      bytes: 200,
      nReduce: 1,
      elapsedMs: 3_000,
      reassigned: 0,
      workersSeen: 2, // C asked after the end
      outputs: ['/out/mr-out-0'],
    });
    expect(clock.pendingTimers).toBe(0);
  });

  it('a task failing 3 times fails the job with a typed error', async () => {
    const { coordinator, invoke } = virtualCoordinator();
    for (let attempt = 1; attempt <= 3; attempt++) {
      await invoke('requestTask', { protocol: PROTOCOL_VERSION, workerId: 'A' });
      invoke('reportFailed', {
        protocol: PROTOCOL_VERSION,
        workerId: 'A',
        kind: 'map',
        taskId: 0,
        attempt,
        error: { code: 'ERR_APP', message: 'boom' },
      });
      // Task 1 was handed out in round 1; later rounds get task 0 again first.
      if (attempt === 1) await invoke('requestTask', { protocol: PROTOCOL_VERSION, workerId: 'B' });
    }
    const result = await coordinator.result;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('ERR_JOB_FAILED');
    expect(result.error.message).toBe(
      'map task 0 (a.txt) failed 3 times; last error from worker A: ERR_APP: boom',
    );
  });
});

import { silentLogger, WsClient } from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Coordinator, CoordinatorClosedError } from '../src/index.js';
import { Method, PROTOCOL_VERSION } from '../src/protocol.js';
import { inputs, virtualCoordinator } from './support/virtual-coordinator.js';

/**
 * The lifecycle of docs/DESIGN.md: `close` is idempotent, refuses new work at once, settles
 * the work in flight (long polls, `result`) and releases what the coordinator owns (timers,
 * the server and its connections). Virtual time where no socket is involved.
 */

function harness() {
  const { clock, coordinator, request, report: reportAs } = virtualCoordinator();
  const report = (
    method: 'reportDone' | 'reportFailed',
    taskId: number,
    attempt: number,
    kind: 'map' | 'reduce' = 'map',
  ) => reportAs(method, 'A', kind, taskId, attempt);
  return { clock, coordinator, request, report };
}

/** Lets promise continuations run, then says whether `p` has settled (and how). */
async function peek<T>(p: Promise<T>): Promise<{ settled: boolean; value?: T; error?: unknown }> {
  let state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => {
      state = { settled: true, value };
    },
    (error: unknown) => {
      state = { settled: true, error };
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
}

describe('Coordinator.close', () => {
  it('is idempotent: every call, during or after the first, returns the same promise', async () => {
    const { coordinator } = harness();
    const first = coordinator.close();
    const during = coordinator.close();
    expect(during).toBe(first);
    await expect(first).resolves.toBeUndefined();
    expect(coordinator.close()).toBe(first);
    await expect(coordinator.close()).resolves.toBeUndefined();
  });

  it('answers long polls in flight with exit and leaves no timer behind', async () => {
    const { clock, coordinator, request } = harness();
    await request('A');
    await request('B'); // both map tasks running: a deadline timer is set
    const waiting = request('C'); // nothing to hand out: a long poll with its timer
    expect((await peek(waiting)).settled).toBe(false);
    expect(clock.pendingTimers).toBe(2);
    await coordinator.close();
    expect((await peek(waiting)).value).toEqual({ kind: 'exit', reason: 'failed' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects result with CoordinatorClosedError when the job is not over', async () => {
    const { coordinator, request } = harness();
    await request('A');
    await coordinator.close();
    const settled = await peek(coordinator.result);
    expect(settled.error).toBeInstanceOf(CoordinatorClosedError);
    expect(settled.error).toMatchObject({ code: 'ERR_COORDINATOR_CLOSED' });
  });

  it('leaves the result of a finished job as it was', async () => {
    const { coordinator, request, report } = harness();
    await request('A');
    await request('A');
    report('reportDone', 0, 1);
    report('reportDone', 1, 1);
    const reduce = await request('A');
    expect(reduce).toMatchObject({ kind: 'reduce', taskId: 0, attempt: 1 });
    expect(report('reportDone', 0, 1, 'reduce')).toEqual({ accepted: true, exit: true });
    await coordinator.close();
    expect((await coordinator.result).ok).toBe(true);
  });

  it('refuses new work at once: every call is told to exit and the job does not change', async () => {
    const { clock, coordinator, request, report } = harness();
    await request('A');
    const before = coordinator.progress();
    const closing = coordinator.close(); // not awaited: refusal starts with the call
    expect(await request('B')).toEqual({ kind: 'exit', reason: 'failed' });
    expect(report('reportDone', 0, 1)).toEqual({ accepted: false, exit: true });
    expect(report('reportFailed', 0, 1)).toEqual({ accepted: false, exit: true });
    await closing;
    expect(await request('C')).toEqual({ kind: 'exit', reason: 'failed' });
    expect(coordinator.progress()).toEqual(before);
    expect(clock.pendingTimers).toBe(0);
  });

  it('listen after close rejects with CoordinatorClosedError', async () => {
    const { coordinator } = harness();
    await coordinator.close();
    await expect(coordinator.listen()).rejects.toBeInstanceOf(CoordinatorClosedError);
    expect(coordinator.url).toBeUndefined();
  });
});

describe('Coordinator.close with a server', () => {
  let client: WsClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  it('closes the server and its connections; a close during listen closes what it binds', async () => {
    const coordinator = new Coordinator(inputs, { nReduce: 1, dir: '/out', logger: silentLogger });
    const url = await coordinator.listen({ authToken: 't', logger: silentLogger });
    client = new WsClient({ url, authToken: 't', logger: silentLogger, reconnect: false });
    await client.ready();
    expect(coordinator.progress().workersConnected).toBe(1);
    const closed = coordinator.close();
    expect(coordinator.close()).toBe(closed);
    await closed;
    expect(coordinator.url).toBeUndefined();
    expect(coordinator.progress().workersConnected).toBe(0);
    const after = await client.call(Method.requestTask, {
      protocol: PROTOCOL_VERSION,
      workerId: 'w',
    });
    expect(after.ok).toBe(false);

    const racing = new Coordinator(inputs, { nReduce: 1, dir: '/out', logger: silentLogger });
    const listening = racing.listen({ logger: silentLogger });
    await racing.close();
    await expect(listening).rejects.toBeInstanceOf(CoordinatorClosedError);
    expect(racing.url).toBeUndefined();
  });
});

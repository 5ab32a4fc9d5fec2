import { silentLogger, WsClient } from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Coordinator } from '../src/index.js';
import { Method, PROTOCOL_VERSION } from '../src/protocol.js';

/** Bad input on the wire gets a typed answer, and the coordinator keeps serving everyone. */

const TOKEN = 'rpc-test-token';
let coordinator: Coordinator | undefined;
let client: WsClient | undefined;

afterEach(async () => {
  await client?.close();
  await coordinator?.close();
});

async function connect(): Promise<WsClient> {
  coordinator = new Coordinator(
    [
      { filename: 'a.txt', path: '/in/a.txt', bytes: 1 },
      { filename: 'b.txt', path: '/in/b.txt', bytes: 1 },
    ],
    { nReduce: 2, dir: '/out', logger: silentLogger },
  );
  const url = await coordinator.listen({ authToken: TOKEN, logger: silentLogger });
  client = new WsClient({ url, authToken: TOKEN, logger: silentLogger, reconnect: false });
  await client.ready();
  return client;
}

const ref = { protocol: PROTOCOL_VERSION, workerId: 'w1' };
const stats = { inputBytes: 1, records: 1, keys: 1, outputBytes: 1 };

describe('coordinator RPC: bad input gets a typed error and the coordinator keeps serving', () => {
  it('answers malformed, unknown and out-of-range calls with BAD_ARGUMENTS / UNKNOWN_METHOD', async () => {
    const c = await connect();
    const cases: Array<[string, unknown, string]> = [
      [Method.requestTask, null, 'BAD_ARGUMENTS'],
      [Method.requestTask, { workerId: 'w1' }, 'BAD_ARGUMENTS'], // no protocol version
      [Method.requestTask, { protocol: 99, workerId: 'w1' }, 'BAD_ARGUMENTS'],
      [Method.requestTask, { protocol: PROTOCOL_VERSION, workerId: '' }, 'BAD_ARGUMENTS'],
      [Method.reportDone, { ...ref, kind: 'map', taskId: 0, attempt: 1 }, 'BAD_ARGUMENTS'], // no stats
      [Method.reportDone, { ...ref, kind: 'sort', taskId: 0, attempt: 1, stats }, 'BAD_ARGUMENTS'],
      [Method.reportDone, { ...ref, kind: 'map', taskId: -1, attempt: 1, stats }, 'BAD_ARGUMENTS'],
      [
        Method.reportFailed,
        { ...ref, kind: 'map', taskId: 0, attempt: 1, error: 'x' },
        'BAD_ARGUMENTS',
      ],
      ['Coordinator.shutdown', {}, 'UNKNOWN_METHOD'],
    ];
    for (const [method, args, code] of cases) {
      const result = await c.call(method, args);
      expect(result, `${method} ${JSON.stringify(args)}`).toMatchObject({ ok: false, code });
    }
  });

  it('refuses reports of tasks never handed out, with the reason', async () => {
    const c = await connect();
    const never = await c.call(Method.reportDone, {
      ...ref,
      kind: 'map',
      taskId: 7,
      attempt: 1,
      stats,
    });
    expect(never).toEqual({ ok: false, code: 'BAD_ARGUMENTS', message: 'there is no map task 7' });
    const early = await c.call(Method.reportDone, {
      ...ref,
      kind: 'reduce',
      taskId: 0,
      attempt: 1,
      stats,
    });
    expect(early).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS' });
    expect(coordinator?.progress()).toMatchObject({ mapDone: 0, reduceDone: 0, phase: 'map' });
  });

  it('still hands out work after all that', async () => {
    const c = await connect();
    await c.call(Method.requestTask, 'garbage');
    await c.call(Method.reportDone, { ...ref, kind: 'map', taskId: 9, attempt: 3, stats });
    const task = await c.call(Method.requestTask, ref);
    expect(task).toEqual({
      ok: true,
      reply: {
        kind: 'map',
        taskId: 0,
        attempt: 1,
        filename: 'a.txt',
        path: '/in/a.txt',
        nReduce: 2,
        dir: '/out',
      },
    });
    const done = await c.call(Method.reportDone, {
      ...ref,
      kind: 'map',
      taskId: 0,
      attempt: 1,
      stats,
    });
    expect(done).toEqual({ ok: true, reply: { accepted: true, exit: false } });
  });
});

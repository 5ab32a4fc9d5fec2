/**
 * The clerk against a server that answers nonsense or STALE, `close()` while retrying, and
 * concurrent calls on one clerk.
 */
import { performance } from 'node:perf_hooks';
import {
  type CallResult,
  type ClientEnd,
  RpcServer,
  SeededRandom,
  type ServiceMethods,
  silentLogger,
  WsServer,
} from '@flotilla/transport';
import { describe, expect, test } from 'vitest';
import {
  BadRequestError,
  Clerk,
  ClerkClosedError,
  connectClerk,
  KeyTooLargeError,
  KvServer,
  listenKvServer,
  ServerError,
  SessionConflictError,
} from '../src/index.js';
import { wire } from './support/bad-input.js';
import { cleanups } from './support/cleanups.js';
import { sleep } from './support/procs.js';
import { FUZZ_SEED } from './support/seed.js';

// ---------------------------------------------------------------------------------------------
// The clerk against a fake KVServer service

/** A `ClientEnd` calling `rpc.dispatch` directly (through the codec, as on the wire). */
function dispatchEnd(
  rpc: RpcServer,
): ClientEnd & { calls: Array<{ method: string; args: unknown }> } {
  const calls: Array<{ method: string; args: unknown }> = [];
  return {
    calls,
    async call<R>(method: string, args: unknown): Promise<CallResult<R>> {
      calls.push({ method, args: wire(args) });
      return (await rpc.dispatch(method, wire(args), { peer: 'clerk' })) as CallResult<R>;
    },
  };
}

function fakeServer(reply: (method: string, args: unknown) => unknown): RpcServer {
  const service: ServiceMethods = {
    Get: (args: unknown) => reply('Get', args),
    Put: (args: unknown) => reply('Put', args),
    Append: (args: unknown) => reply('Append', args),
  };
  return new RpcServer({ logger: silentLogger }).addService('KVServer', service);
}

const MALFORMED_REPLIES: Array<[string, unknown]> = [
  ['nil', null],
  ['a string', 'value'],
  ['a number', 42],
  ['an array', ['value']],
  ['a numeric value', { value: 5 }],
  ['a map value', { value: { v: 1 } }],
  ['a nil value', { value: null }],
  ['an unknown err', { err: 'NOPE' }],
  ['a numeric err', { err: 1 }],
  ['KEY_TOO_LARGE without sizes', { err: 'KEY_TOO_LARGE' }],
  ['VALUE_TOO_LARGE with a string size', { err: 'VALUE_TOO_LARGE', size: '9', limit: 8 }],
];

type Op = 'get' | 'put' | 'append';
const OPS: Op[] = ['get', 'put', 'append'];

function runOp(clerk: Clerk, op: Op, key = 'k', value = 'v'): Promise<unknown> {
  if (op === 'get') return clerk.get(key);
  if (op === 'put') return clerk.put(key, value);
  return clerk.append(key, value);
}

describe('Clerk against a misbehaving server', () => {
  test.each(MALFORMED_REPLIES)(
    'a reply that is %s → BadRequestError for every op',
    async (_what, reply) => {
      const clerk = new Clerk(dispatchEnd(fakeServer(() => reply)));
      for (const op of OPS) {
        const err = await runOp(clerk, op).catch((e: unknown) => e);
        expect(err, op).toBeInstanceOf(BadRequestError);
        expect(err, op).toMatchObject({ code: 'ERR_BAD_REQUEST' });
        expect((err as Error).message, op).toMatch(/reply has the wrong shape/);
      }
    },
  );

  test('a malformed reply over a real WebSocket → BadRequestError, promptly', async () => {
    const rpc = fakeServer((method) => (method === 'Get' ? { value: 7 } : [1, 2]));
    const ws = await WsServer.listen({ rpcServer: rpc, logger: silentLogger });
    cleanups.push(() => ws.close());
    const clerk = connectClerk(ws.url, { callTimeoutMs: 1000, logger: silentLogger });
    cleanups.push(() => clerk.close());
    const started = performance.now();
    for (const op of OPS) await expect(runOp(clerk, op)).rejects.toBeInstanceOf(BadRequestError);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test('a reply whose err field is present but undefined is a reply', async () => {
    const clerk = new Clerk(dispatchEnd(fakeServer(() => ({ value: 'v', err: undefined }))));
    expect(await clerk.get('k')).toBe('v');
    expect(await clerk.append('k', 'w')).toBe('v');
  });

  test('STALE → SessionConflictError naming the clerk and its request', async () => {
    const clerk = new Clerk(dispatchEnd(fakeServer(() => ({ err: 'STALE' }))), { clientId: 77 });
    const put = await clerk.put('k', 'v').catch((e: unknown) => e);
    expect(put).toBeInstanceOf(SessionConflictError);
    expect(put).toMatchObject({ code: 'ERR_SESSION_CONFLICT' });
    expect((put as Error).message).toBe(
      'the server has seen a later request than #1 from client 77',
    );
    await expect(clerk.append('k', 'v')).rejects.toThrow(/#2 from client 77/);
    // A Get carries no sequence number: STALE to a Get is a broken server, not a conflict.
    await expect(clerk.get('k')).rejects.toBeInstanceOf(BadRequestError);
  });

  test('transport refusals: BAD_ARGUMENTS/UNKNOWN_METHOD → BadRequestError, HANDLER_ERROR → ServerError', async () => {
    const throwing = new Clerk(
      dispatchEnd(
        fakeServer(() => {
          throw new Error('disk on fire');
        }),
      ),
    );
    const err = await throwing.get('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ code: 'ERR_SERVER', reason: 'HANDLER_ERROR' });
    expect((err as Error).message).toMatch(/disk on fire/);

    const strict = new KvServer();
    const rpc = new RpcServer({ logger: silentLogger }).addService('KVServer', {
      Get: strict.service().Get as ServiceMethods[string],
    });
    const partial = new Clerk(dispatchEnd(rpc));
    await expect(partial.put('k', 'v')).rejects.toBeInstanceOf(BadRequestError); // UNKNOWN_METHOD
    expect(await partial.get('k')).toBe('');
  });

  test('close() while retrying an unreachable server → ClerkClosedError at once', async () => {
    let attempts = 0;
    const unreachable: ClientEnd = {
      call: async () => {
        attempts++;
        return { ok: false, code: 'UNREACHABLE' };
      },
    };
    const clerk = new Clerk(unreachable, { retryDelayMs: 20_000, maxRetryDelayMs: 20_000 });
    const inProgress = clerk.get('k');
    const queued = [clerk.put('k', 'v'), clerk.append('k', 'w')];
    await sleep(30);
    expect(attempts).toBe(1); // Now in a 10–20 s pause.
    const closing = performance.now();
    await clerk.close();
    await expect(inProgress).rejects.toBeInstanceOf(ClerkClosedError);
    for (const op of queued) await expect(op).rejects.toBeInstanceOf(ClerkClosedError);
    expect(performance.now() - closing).toBeLessThan(200);
    await expect(clerk.get('k')).rejects.toBeInstanceOf(ClerkClosedError);
    expect(attempts).toBe(1);
  });

  test('close() on a connectClerk whose server is gone → ClerkClosedError at once', async () => {
    const handle = await listenKvServer({ logger: silentLogger });
    const url = handle.url;
    await handle.close(); // Nothing listens on that port now.
    const clerk = connectClerk(url, {
      callTimeoutMs: 100,
      logger: silentLogger,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    cleanups.push(() => clerk.close());
    const op = clerk.append('k', 'v');
    let settled = false;
    op.catch(() => {}).finally(() => {
      settled = true;
    });
    await sleep(400);
    expect(settled).toBe(false);
    const closing = performance.now();
    await clerk.close();
    await expect(op).rejects.toBeInstanceOf(ClerkClosedError);
    expect(performance.now() - closing).toBeLessThan(200);
  });

  test('operations called concurrently on one clerk run one at a time, in call order', async () => {
    const random = new SeededRandom(FUZZ_SEED);
    const real = new KvServer();
    const handlers = real.service();
    const log: Array<{ method: string; args: Record<string, unknown> }> = [];
    let running = 0;
    let maxRunning = 0;
    const slow =
      (method: 'Get' | 'Put' | 'Append') =>
      async (args: unknown): Promise<unknown> => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        log.push({ method, args: args as Record<string, unknown> });
        await sleep(random.int(3));
        running--;
        // One refusal in the middle, to check the queue goes on after a failed operation.
        if ((args as { key: string }).key === 'refuse')
          return { err: 'KEY_TOO_LARGE', size: 9, limit: 8 };
        return (handlers[method] as (a: unknown, c: unknown) => unknown)(args, { peer: 'x' });
      };
    const rpc = new RpcServer({ logger: silentLogger }).addService('KVServer', {
      Get: slow('Get'),
      Put: slow('Put'),
      Append: slow('Append'),
    });
    const clerk = new Clerk(dispatchEnd(rpc), { clientId: 5 });

    const plan: Array<[Op, string, string]> = [];
    for (let i = 0; i < 60; i++) {
      const op = OPS[random.int(3)] as Op;
      plan.push([op, i === 30 ? 'refuse' : `k${random.int(3)}`, `${i}.`]);
    }
    const settledOrder: number[] = [];
    const results = plan.map(([op, key, value], i) =>
      runOp(clerk, op, key, value).then(
        (v) => {
          settledOrder.push(i);
          return v;
        },
        (err: unknown) => {
          settledOrder.push(i);
          return err;
        },
      ),
    );
    const outcomes = await Promise.all(results);

    expect(maxRunning).toBe(1);
    expect(log.map((entry) => entry.method.toLowerCase())).toEqual(plan.map(([op]) => op));
    expect(settledOrder).toEqual(plan.map((_, i) => i));
    expect(outcomes[30]).toBeInstanceOf(KeyTooLargeError);
    // Put/Append carry seq 1, 2, 3, … in call order (the refused one too); a Get after an
    // Append acknowledges it, once.
    let seq = 0;
    let unacknowledged = false;
    log.forEach(({ method, args }, i) => {
      if (method === 'Get') {
        if (unacknowledged) expect(args, `call ${i}`).toMatchObject({ clientId: 5, seq });
        else expect(args.clientId, `call ${i}`).toBeUndefined();
        if (plan[i]?.[1] !== 'refuse') unacknowledged = false;
      } else {
        expect(args, `call ${i}`).toMatchObject({ clientId: 5, seq: ++seq });
        if (plan[i]?.[1] !== 'refuse') unacknowledged = method === 'Append';
      }
    });
    // And the answers are the serial ones: replay the plan on a fresh server.
    const replayRpc = new RpcServer({ logger: silentLogger });
    new KvServer().register(replayRpc);
    const replayClerk = new Clerk(dispatchEnd(replayRpc));
    for (const [i, [op, key, value]] of plan.entries()) {
      if (key === 'refuse') continue;
      expect(outcomes[i], `op ${i}`).toEqual(await runOp(replayClerk, op, key, value));
    }
  });
});

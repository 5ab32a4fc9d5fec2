import { withServiceConfig } from '@flotilla/labkit';
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import {
  Clerk,
  ClerkClosedError,
  InvalidArgumentError,
  SessionConflictError,
  ShardCtrlerConfigError,
} from '../src/index.js';
import { makeCtrlerClerk, startCtrlerLabServer } from './lab/config.js';

const options = {
  n: 3,
  maxraftstate: -1,
  startServer: startCtrlerLabServer,
  makeClerk: makeCtrlerClerk,
};

describe('Clerk', () => {
  it('refuses bad arguments with InvalidArgumentError before sending anything', async () => {
    // A clerk whose one end fails the test if called.
    const ck = new Clerk([
      {
        call: async () => {
          throw new Error('sent');
        },
      },
    ]);
    const cases: [Promise<unknown>, string, { gid?: number; shard?: number }][] = [
      [ck.join({ 0: ['a'] }), 'BAD_GID', { gid: 0 }],
      [ck.join({ [-3]: ['a'] }), 'BAD_GID', { gid: -3 }],
      [ck.join(new Map([[1.5, ['a']]])), 'BAD_GID', {}],
      [ck.join({}), 'BAD_SERVERS', {}],
      [ck.join({ 4: [] }), 'BAD_SERVERS', { gid: 4 }],
      [ck.join({ 4: ['a', ''] }), 'BAD_SERVERS', { gid: 4 }],
      [ck.join({ 4: 'abc' as unknown as string[] }), 'BAD_SERVERS', { gid: 4 }],
      [ck.leave([]), 'BAD_SERVERS', {}],
      [ck.leave([0]), 'BAD_GID', { gid: 0 }],
      [ck.leave([2, 3, 2]), 'DUPLICATE_GID', { gid: 2 }],
      [ck.move(10, 1), 'BAD_SHARD', { shard: 10 }],
      [ck.move(-1, 1), 'BAD_SHARD', { shard: -1 }],
      [ck.move(0, -1), 'BAD_GID', { gid: -1 }],
      [ck.query(-2), 'BAD_CONFIG_NUM', {}],
      [ck.query(0.5), 'BAD_CONFIG_NUM', {}],
    ];
    for (const [call, reason, details] of cases) {
      const err = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', reason, ...details });
    }
    await ck.close();
  });

  it('gets the service’s refusals as InvalidArgumentError, and no new configuration', async () => {
    await simulateTest('shardctrler-clerk-refusals', (sim) =>
      withServiceConfig(sim, options, async (cfg) => {
        const ck = cfg.makeClient();
        expect(await ck.join({ 1: ['a'], 2: ['b'] })).toBe(1);
        const refusals: [Promise<unknown>, string, number][] = [
          [ck.join({ 2: ['c'], 3: ['d'] }), 'GID_ALREADY_JOINED', 2],
          [ck.leave([1, 9]), 'UNKNOWN_GID', 9],
          [ck.move(3, 9), 'MOVE_TO_UNKNOWN_GID', 9],
        ];
        for (const [call, reason, gid] of refusals) {
          await expect(call).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', reason, gid });
        }
        const latest = await ck.query();
        expect(latest.num).toBe(1);
        expect(Object.keys(latest.groups)).toEqual(['1', '2']);
        // Nothing of the refused ops leaked in; the clerk goes on.
        expect(await ck.move(3, 2)).toBe(2);
        expect((await ck.query(-1)).shards[3]).toBe(2);
        expect(await ck.query(99)).toEqual(await ck.query(-1));
      }),
    );
  });

  it('lets exactly one of two clerks racing to join the same gid win; the other gets GID_ALREADY_JOINED', async () => {
    await simulateTest('shardctrler-clerk-join-race', (sim) =>
      withServiceConfig(sim, options, async (cfg) => {
        const a = cfg.makeClient();
        const b = cfg.makeClient();
        const results = await Promise.allSettled([
          a.join({ 5: ['a1', 'a2'] }),
          b.join({ 5: ['b1', 'b2'] }),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({
          reason: 'GID_ALREADY_JOINED',
          gid: 5,
        });
        const latest = await a.query(-1);
        expect(latest.num).toBe(1);
        expect(latest.shards.every((g) => g === 5)).toBe(true);
      }),
    );
  });

  it('runs one clerk’s operations in call order, and close() rejects what is left, idempotently', async () => {
    await simulateTest('shardctrler-clerk-order-close', (sim) =>
      withServiceConfig(sim, options, async (cfg) => {
        const ck = cfg.makeClient();
        const nums = await Promise.all([
          ck.join({ 1: ['a'] }),
          ck.join({ 2: ['b'] }),
          ck.move(0, 2),
          ck.leave([1]),
        ]);
        expect(nums).toEqual([1, 2, 3, 4]);

        const cut = cfg.makeClient([]); // reaches no server: retries forever
        const inFlight = cut.join({ 7: ['x'] });
        const queued = cut.query();
        await sim.sleep(3000);
        const first = cut.close();
        expect(cut.close()).toBe(first);
        await expect(inFlight).rejects.toBeInstanceOf(ClerkClosedError);
        await expect(queued).rejects.toMatchObject({ code: 'ERR_CLERK_CLOSED' });
        await expect(cut.move(0, 1)).rejects.toBeInstanceOf(ClerkClosedError);
        await first;
      }),
    );
  });

  it('reports a client id shared with another clerk as SessionConflictError', async () => {
    await simulateTest('shardctrler-clerk-conflict', (sim) =>
      withServiceConfig(sim, options, async (cfg) => {
        const make = () =>
          cfg.makeClientWith((ends, env) => new Clerk(ends, { clock: env.clock, clientId: 7 }));
        const a = make();
        const b = make();
        await a.join({ 1: ['a'] });
        await a.join({ 2: ['b'] });
        await expect(b.leave([1])).rejects.toBeInstanceOf(SessionConflictError);
      }),
    );
  });

  it('refuses options that cannot work', () => {
    expect(() => new Clerk([])).toThrow(ShardCtrlerConfigError);
    expect(
      () => new Clerk([{ call: async () => ({ ok: false, code: 'CLOSED' }) }], { retryDelayMs: 0 }),
    ).toThrow(ShardCtrlerConfigError);
  });
});

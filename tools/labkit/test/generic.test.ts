import {
  appendElement,
  checkClntAppends,
  checkConcurrentAppends,
  checkGet,
  collectClients,
  genericClient,
  LabError,
  spawnClients,
  spawnClientsAndWait,
} from '@flotilla/labkit';
import { describe, expect, it } from 'vitest';
import { run, withFakeConfig } from './support/run.js';

describe('checkClntAppends / checkConcurrentAppends', () => {
  const v = ['x 0 0 y', 'x 1 0 y', 'x 0 1 y', 'x 1 1 y', 'x 0 2 y'].join('');

  it('accept each element once, in order, interleaved with other clients', () => {
    checkClntAppends(0, v, 3);
    checkClntAppends(1, v, 2);
    checkConcurrentAppends(v, [3, 2]);
    expect(appendElement(3, 14)).toBe('x 3 14 y');
  });

  it('reject a missing, a duplicate, or an out-of-order element', () => {
    expect(() => checkClntAppends(1, v, 3)).toThrow('1 missing element x 1 2 y in Append result');
    expect(() => checkClntAppends(0, `${v}x 0 1 y`, 3)).toThrow(
      'duplicate element x 0 1 y in Append result',
    );
    expect(() => checkClntAppends(0, 'x 0 1 yx 0 0 y', 2)).toThrow(
      'wrong order for element x 0 1 y in Append result',
    );
    expect(() => checkConcurrentAppends(v, [3, 3])).toThrow(LabError);
  });

  it('checkGet: a Get must return the value exactly', async () => {
    const clerk = { get: async (key: string) => (key === 'a' ? 'A' : '') };
    await checkGet(clerk, 'a', 'A');
    await expect(checkGet(clerk, 'b', 'B')).rejects.toThrow(
      'Get(b): expected:\n"B"\nreceived:\n""',
    );
  });
});

describe('GenericTest client pieces', () => {
  it('own-key clients on a reliable zero-time network advance virtual time and check out', async () => {
    const { counts, elapsed, ops } = await run('generic-own-keys', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        const { world } = cfg;
        const history = world.history();
        const ck = world.counted(cfg.makeClient(), history, 0);
        let done = false;
        const pacer = world.pacer();
        const clients = spawnClients(cfg.clientPool(), 5, (cli, clerk) =>
          genericClient({
            cli,
            clerk: world.counted(clerk, history, cli),
            nclients: 5,
            randomkeys: false,
            random: world.random,
            pacer,
            done: () => done,
          }),
        );
        const t0 = sim.clock.now();
        await world.sleep(1000);
        done = true;
        const counts = await collectClients(ck, clients, false);
        expect(world.clerks.size).toBe(1); // the spawned clerks were deleted
        world.checkHistory(history, { log: () => {} });
        return { counts, elapsed: sim.clock.now() - t0, ops: world.ops };
      }),
    );
    // ~500 turns a second per client at a 2 ms mean pause, about half of them Appends.
    for (const j of counts) expect(j).toBeGreaterThan(100);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(1010);
    expect(ops).toBeGreaterThan(counts.reduce((a, b) => a + b, 0));
  });

  it('a Get that does not see every own Append fails the client, and collect rethrows it', async () => {
    const err = await run('generic-stale', (sim) =>
      withFakeConfig(sim, { stale: true }, async (cfg) => {
        let done = false;
        const clients = spawnClients(cfg.clientPool(), 1, (cli, clerk) =>
          genericClient({
            cli,
            clerk,
            nclients: 1,
            randomkeys: false,
            random: cfg.world.random,
            pacer: cfg.world.pacer(),
            done: () => done,
          }),
        );
        await sim.sleep(500);
        done = true;
        await collectClients(cfg.makeClient(), clients, false);
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect(String(err)).toMatch(/get wrong value, key 0, wanted:/);
  });

  it('spawnClientsAndWait gives every value in client order, or throws the first failure', async () => {
    await run('spawn-wait', (sim) =>
      withFakeConfig(sim, { n: 3 }, async (cfg) => {
        const pool = cfg.clientPool();
        expect(
          await spawnClientsAndWait(pool, 3, async (cli) => {
            await sim.sleep(10 * (3 - cli));
            return cli * 10;
          }),
        ).toEqual([0, 10, 20]);
        await expect(
          spawnClientsAndWait(pool, 3, async (cli) => {
            if (cli === 1) throw new LabError('client 1 failed');
            return cli;
          }),
        ).rejects.toThrow('client 1 failed');
      }),
    );
  });
});

import { withServiceConfig } from '@flotilla/labkit';
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import type { Clerk, Config } from '../src/index.js';
import { makeCtrlerClerk, startCtrlerLabServer } from './lab/config.js';

const options = {
  n: 3,
  startServer: startCtrlerLabServer,
  makeClerk: makeCtrlerClerk,
};

const historyOf = (ck: Clerk, latest: number): Promise<Config[]> =>
  Promise.all(Array.from({ length: latest + 1 }, (_, num) => ck.query(num)));

describe('ShardCtrler recovery and retries', () => {
  it('applies every retried write exactly once on an unreliable network', async () => {
    await simulateTest('shardctrler-unreliable-exactly-once', (sim) =>
      withServiceConfig(sim, { ...options, maxraftstate: -1, unreliable: true }, async (cfg) => {
        const clerks = [cfg.makeClient(), cfg.makeClient(), cfg.makeClient()];
        const nums = await Promise.all(
          clerks.map(async (ck, c) => {
            const made: number[] = [];
            for (let i = 0; i < 5; i++) {
              const gid = 100 * (c + 1) + i;
              made.push(await ck.join({ [gid]: [`s${gid}`] }));
              if (i % 2 === 1) made.push(await ck.leave([gid]));
            }
            return made;
          }),
        );
        const all = nums.flat().sort((a, b) => a - b);
        // One configuration per write, none twice: exactly 1…writes.
        expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
        cfg.world.setUnreliable(false);
        const latest = await clerks[0]?.query(-1);
        expect(latest?.num).toBe(all.length);
        expect(Object.keys(latest?.groups ?? {})).toHaveLength(9);
      }),
    );
  });

  it('restores the whole history from snapshots and the log after every server restarts', async () => {
    await simulateTest('shardctrler-snapshot-restart', (sim) =>
      withServiceConfig(sim, { ...options, maxraftstate: 400 }, async (cfg) => {
        const ck = cfg.makeClient();
        for (let gid = 1; gid <= 12; gid++) await ck.join({ [gid]: [`a${gid}`, `b${gid}`] });
        for (let gid = 1; gid <= 6; gid++) await ck.leave([gid]);
        await ck.move(0, 12);
        const before = await historyOf(ck, 19);
        expect(cfg.snapshotSize()).toBeGreaterThan(0);
        cfg.shutdownAll();
        await sim.sleep(1000);
        await cfg.startAll();
        cfg.connectAll();
        expect(await historyOf(ck, 19)).toEqual(before);
        expect((await ck.query(-1)).num).toBe(19);
      }),
    );
  });
});

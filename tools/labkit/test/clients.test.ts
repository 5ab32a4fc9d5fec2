import { type ClerkEnv, LabError } from '@flotilla/labkit';
import type { ClientEnd } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { fakeClerk, startFakeKv } from './support/fake-kv.js';
import { type FakeCluster, makeFakeConfig, run, withFakeConfig } from './support/run.js';

/** Which server each of a clerk's (shuffled) ends reaches; -1 where the end does not deliver. */
async function endTargets(ends: readonly ClientEnd[]): Promise<number[]> {
  const out: number[] = [];
  for (const end of ends) {
    const result = await end.call<number>('KV.Who', {});
    out.push(result.ok ? result.reply : -1);
  }
  return out;
}

/** The order of a fresh clerk's ends, all enabled, in a simulation with `seed`. */
function clerkOrder(seed: number): Promise<number[]> {
  return run(
    'clerk-order',
    (sim) => withFakeConfig(sim, {}, (cfg) => endTargets(cfg.makeClient().ends)),
    seed,
  );
}

describe('makeClient', () => {
  it('hands the clerk one end per server, shuffled deterministically by the seed', async () => {
    const a = await clerkOrder(7);
    expect([...a].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await clerkOrder(7)).toEqual(a);
    const orders = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6]) orders.add(JSON.stringify(await clerkOrder(seed)));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('enables only the ends toward `to`; connectClient / disconnectClient change that', async () => {
    await run('clerk-to', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        const ck = cfg.makeClient([1, 3]);
        const targets = await endTargets(ck.ends);
        expect([...targets].sort()).toEqual([-1, -1, -1, 1, 3]);
        cfg.connectClient(ck, [0]);
        expect([...(await endTargets(ck.ends))].sort()).toEqual([-1, -1, 0, 1, 3]);
        cfg.disconnectClient(ck, [1, 3]);
        expect([...(await endTargets(ck.ends))].sort()).toEqual([-1, -1, -1, -1, 0]);
        // Server links are not the clerk's: a partition leaves these as they are.
        cfg.partition([0, 1], [2, 3, 4]);
        expect([...(await endTargets(ck.ends))].sort()).toEqual([-1, -1, -1, -1, 0]);
      }),
    );
  });

  it('deleteClient deletes its ends (and those it made) and closes it', async () => {
    await run('clerk-delete', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        const ck = cfg.makeClient();
        const made = ck.env.makeEnd(cfg.name(4));
        expect(await made.call('KV.Who', {})).toEqual({ ok: true, reply: 4 });
        expect(cfg.world.clerks.size).toBe(1);
        cfg.deleteClient(ck);
        expect(cfg.world.clerks.size).toBe(0);
        expect(ck.closed).toBe(true);
        expect(await endTargets([...ck.ends, made])).toEqual([-1, -1, -1, -1, -1, -1]);
        expect(() => cfg.deleteClient(ck)).toThrow(LabError);
      }),
    );
  });

  it('makeClientWith takes any factory; makeClient needs the cluster’s', async () => {
    await run('clerk-factory', async (sim) => {
      const cfg: FakeCluster = await makeFakeConfig(sim, { n: 3 });
      const seen: { ends: readonly ClientEnd[]; env: ClerkEnv }[] = [];
      const clerk = cfg.makeClientWith((ends, env) => {
        seen.push({ ends, env });
        return { id: 'custom' };
      });
      expect(clerk).toEqual({ id: 'custom' });
      expect(seen[0]?.ends).toHaveLength(3);
      expect(seen[0]?.env.clock).toBe(sim.clock);
      const bare = cfg.world.addCluster({
        n: 1,
        maxraftstate: -1,
        startServer: startFakeKv(),
        serverName: (i) => `bare-${i}`,
      });
      expect(() => bare.makeClient()).toThrow(/no makeClerk/);
      expect(bare.makeClientWith(fakeClerk).ends).toHaveLength(1);
      await cfg.world.cleanup();
    });
  });
});

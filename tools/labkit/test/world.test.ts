import {
  ctrlerServerName,
  groupServerName,
  LabError,
  type ServiceCluster,
  type World,
  withWorld,
} from '@flotilla/labkit';
import type { ClientEnd } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { type FakeClerk, type FakeKvServer, fakeClerk, startFakeKv } from './support/fake-kv.js';
import { Lines, run } from './support/run.js';

type Cluster = ServiceCluster<FakeKvServer, FakeClerk>;

/** shardkv's shape: a controller cluster and replica groups 100 and 101 on one network. */
async function shardWorld(world: World): Promise<{ ctrler: Cluster; groups: Cluster[] }> {
  const ctrler = world.addCluster({
    n: 3,
    maxraftstate: -1,
    startServer: startFakeKv(),
    serverName: ctrlerServerName,
    makeClerk: fakeClerk,
  });
  const groups = [100, 101].map((gid) =>
    world.addCluster({
      n: 3,
      maxraftstate: 1000,
      startServer: startFakeKv(),
      serverName: groupServerName(gid),
      makeClerk: fakeClerk,
    }),
  );
  for (const cluster of [ctrler, ...groups]) {
    await cluster.startAll();
    cluster.connectAll();
  }
  return { ctrler, groups };
}

describe('World: several clusters on one network (shardkv)', () => {
  it('names servers per group, counts peers over all clusters, rejects a reused name', async () => {
    await run('world-names', (sim) =>
      withWorld(sim, { log: () => {} }, async (world) => {
        const { ctrler, groups } = await shardWorld(world);
        expect(ctrler.all().map((i) => ctrler.name(i))).toEqual(['ctrler0', 'ctrler1', 'ctrler2']);
        expect(groups[1]?.name(2)).toBe('server-101-2');
        expect(world.peers).toBe(9);
        expect(world.clusters).toHaveLength(3);
        expect(() =>
          world.addCluster({
            n: 1,
            maxraftstate: -1,
            startServer: startFakeKv(),
            serverName: groupServerName(100),
          }),
        ).toThrow(LabError);
      }),
    );
  });

  it('a server reaches other clusters through env.makeEnd; shutdown deletes those ends', async () => {
    await run('world-make-end', (sim) =>
      withWorld(sim, { log: () => {} }, async (world) => {
        const { groups } = await shardWorld(world);
        const g100 = groups[0] as Cluster;
        const server = g100.server(1) as FakeKvServer;
        const toCtrler = server.env.makeEnd(ctrlerServerName(2));
        const toOtherGroup = server.env.makeEnd(groupServerName(101)(0));
        expect(await toCtrler.call('KV.Who', {})).toEqual({ ok: true, reply: 2 });
        expect(await toOtherGroup.call('KV.Who', {})).toEqual({ ok: true, reply: 0 });
        // Inside the group, ends go to the group's own servers only.
        expect(await (server.ends[2] as ClientEnd).call('KV.Who', {})).toEqual({
          ok: true,
          reply: 2,
        });
        g100.shutdownServer(1);
        expect(await toCtrler.call('KV.Who', {})).toMatchObject({ ok: false });
        expect(await toOtherGroup.call('KV.Who', {})).toMatchObject({ ok: false });
        // A killed incarnation's later makeEnd gets an end that never delivers.
        const late = server.env.makeEnd(ctrlerServerName(0));
        expect(await late.call('KV.Who', {})).toMatchObject({ ok: false });
      }),
    );
  });

  it('clerks of one world: a shardkv-style clerk on the controller with makeEnd to a group', async () => {
    await run('world-clerk', (sim) =>
      withWorld(sim, { log: () => {} }, async (world) => {
        const { ctrler } = await shardWorld(world);
        const ck = ctrler.makeClient();
        const toGroup = ck.env.makeEnd(groupServerName(101)(1));
        expect(await toGroup.call('KV.Who', {})).toEqual({ ok: true, reply: 1 });
        await ck.put('k', 'v');
        expect(await ck.get('k')).toBe('v');
        ctrler.deleteClient(ck);
        expect(await toGroup.call('KV.Who', {})).toMatchObject({ ok: false });
      }),
    );
  });

  it('cleanup closes clerks, then the servers of every cluster', async () => {
    const started: FakeKvServer[] = [];
    let clerk: FakeClerk | undefined;
    await run('world-cleanup', (sim) =>
      withWorld(sim, { log: new Lines().log }, async (world) => {
        const cluster = world.addCluster({
          n: 2,
          maxraftstate: -1,
          startServer: startFakeKv({ started }),
          makeClerk: fakeClerk,
        });
        await cluster.startAll();
        clerk = cluster.makeClient();
      }),
    );
    expect(clerk?.closed).toBe(true);
    expect(started.map((s) => s.closed)).toEqual([true, true]);
  });
});

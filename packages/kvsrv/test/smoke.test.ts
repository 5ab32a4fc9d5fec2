import { RpcServer, simulate } from '@flotilla/transport';
import { expect, test } from 'vitest';
import { Clerk, KvServer } from '../src/index.js';

test('smoke: exactly-once append on an unreliable network', async () => {
  await simulate(
    async (sim) => {
      const rpc = new RpcServer();
      const server = new KvServer().register(rpc);
      sim.net.addServer('kv', rpc);
      sim.net.setReliable(false);
      const end = sim.net.makeEnd('c0');
      sim.net.connect('c0', 'kv');
      sim.net.enable('c0', true);
      const clerk = new Clerk(end, { clock: sim.clock, random: sim.random.fork() });
      let expected = '';
      for (let i = 0; i < 200; i++) {
        const old = await clerk.append('k', `x${i}.`);
        expect(old).toBe(expected);
        expected += `x${i}.`;
      }
      expect(await clerk.get('k')).toBe(expected);
      expect(server.stats).toEqual({ keys: 1, clients: 1, cachedReplies: 0 });
    },
    { seed: 1 },
  );
});

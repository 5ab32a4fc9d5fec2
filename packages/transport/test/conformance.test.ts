import { afterEach } from 'vitest';
import {
  type ClientEnd,
  RpcServer,
  realClock,
  SeededRandom,
  silentLogger,
  simulate,
  sleep,
  WsClient,
  WsServer,
} from '../src/index.js';
import { conformanceSuite } from './conformance/suite.js';

conformanceSuite({
  name: 'SimNetwork',
  async run(setup, body) {
    await simulate(
      async (sim) => {
        const server = new RpcServer({ logger: silentLogger });
        setup(server);
        sim.net.addServer('server', server);
        let ends = 0;
        await body({
          client: async () => {
            const name = `client-${ends++}`;
            const end = sim.net.makeEnd(name);
            sim.net.connect(name, 'server');
            sim.net.enable(name, true);
            return end;
          },
          sleep: sim.sleep,
          randomInt: (n) => sim.random.int(n),
          stopServer: async () => sim.net.deleteServer('server'),
        });
      },
      { seed: 20261125 },
    );
  },
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

conformanceSuite({
  name: 'WebSocket',
  async run(setup, body) {
    const server = new RpcServer({ logger: silentLogger });
    setup(server);
    const ws = await WsServer.listen({
      rpcServer: server,
      authToken: 'conformance',
      logger: silentLogger,
    });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await ws.close();
    });
    const random = new SeededRandom(7);
    await body({
      client: async (): Promise<ClientEnd> => {
        const client = new WsClient({
          url: ws.url,
          authToken: 'conformance',
          logger: silentLogger,
        });
        cleanups.push(() => client.close());
        await client.ready();
        return client;
      },
      sleep: (ms) => sleep(realClock, ms),
      randomInt: (n) => random.int(n),
      stopServer: async () => {
        stopped = true;
        await ws.close();
      },
    });
  },
});

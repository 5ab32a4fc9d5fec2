/**
 * The lifecycle of docs/DESIGN.md: `Clerk.close` and `KvServerHandle.close` are idempotent,
 * and closing a clerk rejects its work in flight, queued and to come with `ClerkClosedError`,
 * at once (in virtual time: without waiting for the attempt outstanding).
 */
import { createServer } from 'node:net';
import {
  RpcServer,
  type ServiceMethods,
  type Sim,
  silentLogger,
  simulate,
} from '@flotilla/transport';
import { describe, expect, test } from 'vitest';
import { Clerk, ClerkClosedError, KvServer, listenKvServer } from '../src/index.js';

/** How long the server sits on a Get before answering, in virtual ms. */
const SLOW_GET_MS = 10_000;

/** A `KvServer` on `sim.net` as "kv" whose Gets answer only after `SLOW_GET_MS`. */
function slowGetServer(sim: Sim): KvServer {
  const server = new KvServer();
  const handlers = server.service();
  const get = handlers.Get as ServiceMethods[string];
  const service: ServiceMethods = {
    ...handlers,
    Get: async (args, context) => {
      await sim.sleep(SLOW_GET_MS);
      return get(args, context);
    },
  };
  sim.net.addServer('kv', new RpcServer({ logger: silentLogger }).addService('KVServer', service));
  return server;
}

function clerkOn(sim: Sim, name: string): Clerk {
  const end = sim.net.makeEnd(name);
  sim.net.connect(name, 'kv');
  sim.net.enable(name, true);
  return new Clerk(end, { clock: sim.clock, random: sim.random.fork() });
}

/** Lets every promise continuation run (one macrotask turn). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('Clerk.close', () => {
  test('rejects the attempt in flight, the queued operations and later ones at once', async () => {
    await simulate(
      async (sim) => {
        const server = slowGetServer(sim);
        const clerk = clerkOn(sim, 'c0');
        const inFlight = clerk.get('k');
        const queued = [clerk.put('k', 'v'), clerk.append('k', 'w')];
        await sim.sleep(1000); // The Get is at the server, its reply 9 s away.
        const closedAt = sim.clock.now();

        const closing = clerk.close();
        await expect(inFlight).rejects.toBeInstanceOf(ClerkClosedError);
        for (const op of queued) await expect(op).rejects.toBeInstanceOf(ClerkClosedError);
        await expect(clerk.get('k')).rejects.toBeInstanceOf(ClerkClosedError);
        await expect(clerk.put('k', 'x')).rejects.toBeInstanceOf(ClerkClosedError);
        await closing;
        expect(sim.clock.now()).toBe(closedAt);

        // The late reply changes nothing, and the queued Put and Append never ran.
        await sim.sleep(SLOW_GET_MS);
        await expect(inFlight).rejects.toBeInstanceOf(ClerkClosedError);
        expect(server.stats).toEqual({ keys: 0, clients: 0, cachedReplies: 0 });
      },
      { seed: 1 },
    );
  });

  test('rejects an operation pausing after an unreachable server at once, and clears the pause', async () => {
    await simulate(
      async (sim) => {
        slowGetServer(sim);
        const end = sim.net.makeEnd('c0'); // Never enabled: every call fails as UNREACHABLE.
        const clerk = new Clerk(end, {
          clock: sim.clock,
          random: sim.random.fork(),
          retryDelayMs: 60_000,
          maxRetryDelayMs: 60_000,
        });
        const op = clerk.put('k', 'v');
        await sim.sleep(1000); // The first attempt failed within 100 ms: now a 30–60 s pause.
        expect(sim.clock.pendingTimers).toBe(1);
        const closedAt = sim.clock.now();
        await clerk.close();
        await expect(op).rejects.toBeInstanceOf(ClerkClosedError);
        expect(sim.clock.now()).toBe(closedAt);
        expect(sim.clock.pendingTimers).toBe(0);
      },
      { seed: 2 },
    );
  });

  test('is idempotent: every call gets the first promise, which waits for onClose, run once', async () => {
    let onCloseCalls = 0;
    let release = (): void => {};
    const clerk = new Clerk(
      { call: () => new Promise(() => {}) },
      {
        onClose: () => {
          onCloseCalls++;
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      },
    );
    const first = clerk.close();
    const second = clerk.close();
    expect(second).toBe(first);
    let settled = false;
    void second.then(() => {
      settled = true;
    });
    await settle();
    expect(settled).toBe(false); // onClose is still running.
    release();
    await first;
    expect(settled).toBe(true);
    expect(clerk.close()).toBe(first);
    await clerk.close();
    expect(onCloseCalls).toBe(1);
  });

  test('does not close the end it was given', async () => {
    await simulate(
      async (sim) => {
        const rpc = new RpcServer({ logger: silentLogger });
        new KvServer().register(rpc);
        sim.net.addServer('kv', rpc);
        const end = sim.net.makeEnd('shared');
        sim.net.connect('shared', 'kv');
        sim.net.enable('shared', true);
        const first = new Clerk(end, { clock: sim.clock, random: sim.random.fork() });
        await first.put('k', 'v');
        await first.close();
        const second = new Clerk(end, { clock: sim.clock, random: sim.random.fork() });
        expect(await second.get('k')).toBe('v');
      },
      { seed: 3 },
    );
  });
});

describe('listenKvServer', () => {
  test('handle.close() is idempotent and releases the port', async () => {
    const handle = await listenKvServer({ host: '127.0.0.1', logger: silentLogger });
    const port = Number(new URL(handle.url).port);
    const first = handle.close();
    const second = handle.close();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await handle.close();
    const again = await listenKvServer({ host: '127.0.0.1', port, logger: silentLogger });
    await again.close();
  });

  test('rejects when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      await expect(
        listenKvServer({ host: '127.0.0.1', port: address.port, logger: silentLogger }),
      ).rejects.toThrow();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

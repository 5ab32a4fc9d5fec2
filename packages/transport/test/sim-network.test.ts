import { describe, expect, it } from 'vitest';
import {
  type CallResult,
  encode,
  RpcServer,
  type Sim,
  SimNetworkError,
  silentLogger,
  simulate,
} from '../src/index.js';

/** A server whose handlers record what ran, and an end `client` connected to it as `server`. */
function setup(sim: Sim, options: { handlerMs?: number } = {}) {
  const ran: number[] = [];
  const server = new RpcServer({ logger: silentLogger }).addService('Svc', {
    run: (args: { i: number }) => {
      ran.push(args.i);
      return args.i;
    },
    slow: async (args: { i: number }) => {
      await sim.sleep(options.handlerMs ?? 1000);
      ran.push(args.i);
      return args.i;
    },
  });
  sim.net.addServer('server', server);
  const end = sim.net.makeEnd('client');
  sim.net.connect('client', 'server');
  sim.net.enable('client', true);
  return { server, end, ran };
}

async function timed<T>(sim: Sim, p: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = sim.clock.now();
  const value = await p;
  return { value, ms: sim.clock.now() - start };
}

describe('SimNetwork (labrpc semantics in virtual time)', () => {
  it('reliable: every call is delivered at once, in virtual time', async () => {
    await simulate(
      async (sim) => {
        const { end } = setup(sim);
        const { value, ms } = await timed(sim, end.call('Svc.run', { i: 1 }));
        expect(value).toEqual({ ok: true, reply: 1 });
        expect(ms).toBe(0);
      },
      { seed: 1 },
    );
  });

  it('unreliable: 10% of requests and 10% of replies are lost (P(reply) = 0.81, P(ran, no reply) = 0.09)', async () => {
    await simulate(
      async (sim) => {
        const { end, ran } = setup(sim);
        sim.net.setReliable(false);
        const n = 20_000;
        let replies = 0;
        let maxMs = 0;
        const calls = Array.from({ length: n }, async (_, i) => {
          const { value, ms } = await timed(sim, end.call('Svc.run', { i }));
          maxMs = Math.max(maxMs, ms);
          if (value.ok) replies++;
        });
        await Promise.all(calls);
        expect(replies / n).toBeGreaterThan(0.8);
        expect(replies / n).toBeLessThan(0.82);
        expect((ran.length - replies) / n).toBeGreaterThan(0.08);
        expect((ran.length - replies) / n).toBeLessThan(0.1);
        expect(maxMs).toBeLessThanOrEqual(26);
      },
      { seed: 2 },
    );
  });

  it('a disabled, unconnected or serverless end fails after 0–99 ms, or 0–6,999 ms with long delays', async () => {
    await simulate(
      async (sim) => {
        const { end } = setup(sim);
        const lonely = sim.net.makeEnd('lonely');
        const orphan = sim.net.makeEnd('orphan');
        sim.net.connect('orphan', 'nobody');
        sim.net.enable('orphan', true);
        sim.net.enable('client', false);
        const delays = async (count: number): Promise<number[]> =>
          Promise.all(
            Array.from({ length: count }, async (_, i) => {
              const which = [end, lonely, orphan][i % 3];
              const { value, ms } = await timed(
                sim,
                which?.call('Svc.run', { i }) as Promise<CallResult>,
              );
              expect(value).toEqual({ ok: false, code: 'UNREACHABLE' });
              return ms;
            }),
          );
        const short = await delays(3000);
        expect(Math.max(...short)).toBeLessThan(100);
        expect(Math.max(...short)).toBeGreaterThan(90);
        sim.net.setLongDelays(true);
        const long = await delays(3000);
        expect(Math.max(...long)).toBeLessThan(7000);
        expect(Math.max(...long)).toBeGreaterThan(6800);
        const mean = long.reduce((a, b) => a + b, 0) / long.length;
        expect(mean).toBeGreaterThan(3300);
        expect(mean).toBeLessThan(3700);
      },
      { seed: 3 },
    );
  });

  it('deleting a server turns calls in flight into no reply within 100 ms, even if the handler finishes', async () => {
    await simulate(
      async (sim) => {
        const { end, ran } = setup(sim, { handlerMs: 5000 });
        const pending = timed(sim, end.call('Svc.slow', { i: 1 }));
        await sim.sleep(250);
        sim.net.deleteServer('server');
        const { value, ms } = await pending;
        expect(value).toEqual({ ok: false, code: 'UNREACHABLE' });
        expect(ms).toBeGreaterThanOrEqual(250);
        expect(ms).toBeLessThanOrEqual(350);
        await sim.sleep(6000);
        expect(ran).toEqual([1]);
      },
      { seed: 4 },
    );
  });

  it('a server replaced under the same name never answers calls made to the old one', async () => {
    await simulate(
      async (sim) => {
        const { end } = setup(sim, { handlerMs: 300 });
        const pending = end.call('Svc.slow', { i: 1 });
        await sim.sleep(50);
        sim.net.addServer(
          'server',
          new RpcServer({ logger: silentLogger }).addService('Svc', { slow: () => 2 }),
        );
        expect(await pending).toEqual({ ok: false, code: 'UNREACHABLE' });
        expect(await end.call('Svc.slow', { i: 3 })).toEqual({ ok: true, reply: 2 });
      },
      { seed: 5 },
    );
  });

  it('disabling an end mid-call loses the reply; re-enabling restores delivery', async () => {
    await simulate(
      async (sim) => {
        const { end } = setup(sim, { handlerMs: 1000 });
        const pending = end.call('Svc.slow', { i: 1 });
        await sim.sleep(10);
        sim.net.enable('client', false);
        expect(await pending).toEqual({ ok: false, code: 'UNREACHABLE' });
        sim.net.enable('client', true);
        expect(await end.call('Svc.run', { i: 2 })).toEqual({ ok: true, reply: 2 });
      },
      { seed: 6 },
    );
  });

  it('long reordering holds back two thirds of replies by 200–2,199 ms', async () => {
    await simulate(
      async (sim) => {
        const { end } = setup(sim);
        sim.net.setLongReordering(true);
        const n = 9000;
        const order: number[] = [];
        const delays = await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            const { value, ms } = await timed(sim, end.call<number>('Svc.run', { i }));
            if (value.ok) order.push(value.reply);
            return ms;
          }),
        );
        const held = delays.filter((ms) => ms > 0);
        expect(held.length / n).toBeGreaterThan(0.64);
        expect(held.length / n).toBeLessThan(0.69);
        expect(Math.min(...held)).toBeGreaterThanOrEqual(200);
        expect(Math.max(...held)).toBeLessThan(2200);
        expect(order).toHaveLength(n);
        expect(order).not.toEqual([...order].sort((a, b) => a - b));
      },
      { seed: 7 },
    );
  });

  it('counts: per-server dispatches, every call entering the network, argument and delivered reply bytes', async () => {
    await simulate(
      async (sim) => {
        const { end } = setup(sim);
        const args = { i: 12345 };
        const argBytes = encode(args).length;
        const replyBytes = encode({ ok: true, reply: 12345 }).length;
        for (let k = 0; k < 10; k++) await end.call('Svc.run', args);
        expect(sim.net.getCount('server')).toBe(10);
        expect(sim.net.getTotalCount()).toBe(10);
        expect(sim.net.getTotalBytes()).toBe(10 * (argBytes + replyBytes));

        sim.net.enable('client', false);
        await end.call('Svc.run', args);
        expect(sim.net.getCount('server')).toBe(10);
        expect(sim.net.getTotalCount()).toBe(11);
        expect(sim.net.getTotalBytes()).toBe(10 * (argBytes + replyBytes) + argBytes);
        expect(sim.net.getCount('nobody')).toBe(0);
      },
      { seed: 8 },
    );
  });

  it('misuse of the network API throws SimNetworkError', async () => {
    await simulate(
      async (sim) => {
        sim.net.makeEnd('a');
        expect(() => sim.net.makeEnd('a')).toThrow(SimNetworkError);
        expect(() => sim.net.deleteEnd('zzz')).toThrow(SimNetworkError);
        expect(() => sim.net.enable('zzz', true)).toThrow(SimNetworkError);
        sim.net.connect('a', 's');
        expect(() => sim.net.connect('a', 's')).toThrow(SimNetworkError);
        sim.net.deleteEnd('a');
        expect(() => sim.net.makeEnd('a')).not.toThrow();
      },
      { seed: 9 },
    );
  });

  it('after cleanup, new calls get CLOSED', async () => {
    await simulate(
      async (sim) => {
        const { end } = setup(sim);
        sim.net.cleanup();
        expect(await end.call('Svc.run', { i: 1 })).toEqual({ ok: false, code: 'CLOSED' });
      },
      { seed: 10 },
    );
  });

  it('a seed replays the same run event for event; another seed gives another run', async () => {
    const trace = async (seed: number): Promise<string[]> => {
      const report = await simulate(
        async (sim) => {
          const { end } = setup(sim, { handlerMs: 17 });
          sim.net.setReliable(false);
          sim.net.setLongReordering(true);
          const log: string[] = [];
          await Promise.all(
            Array.from({ length: 300 }, async (_, i) => {
              await sim.sleep(sim.random.int(500));
              const result = await end.call(i % 2 ? 'Svc.slow' : 'Svc.run', { i });
              log.push(`${sim.clock.now()}:${i}:${result.ok ? 'ok' : result.code}`);
            }),
          );
          return log;
        },
        { seed },
      );
      return [...report.value, `events=${report.events}`, `bytes=${report.bytes}`];
    };
    const a = await trace(42);
    expect(await trace(42)).toEqual(a);
    expect(await trace(43)).not.toEqual(a);
  });
});

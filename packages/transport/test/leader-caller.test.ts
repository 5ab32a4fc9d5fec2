import { describe, expect, it } from 'vitest';
import {
  type ClientEnd,
  drawClientId,
  LeaderCaller,
  type LeaderCallerErrors,
  type LeaderJudge,
  RpcServer,
  SeededRandom,
  type Sim,
  silentLogger,
  simulate,
} from '../src/index.js';

/** Errors with the caller's verdict in the message, as a service's own classes would carry it. */
class Tagged extends Error {}
const errors: LeaderCallerErrors = {
  closed: () => new Tagged('closed'),
  badRequest: (message) => new Tagged(`bad request: ${message}`),
  server: (code, message) => new Tagged(`server ${code}: ${message}`),
  config: (option, message) => new Tagged(`config ${option} ${message}`),
};

/** `done` unless the reply says `wrong`; `undefined` (wrong shape) for anything but a record. */
const judge: LeaderJudge<string> = (reply) => {
  if (typeof reply !== 'object' || reply === null) return undefined;
  const { who, wrong } = reply as { who: string; wrong: boolean };
  return wrong ? { done: false } : { done: true, value: who };
};

/** Three servers s0..s2 answering `Svc.who`; only `leader` claims to lead. Ends e0..e2. */
function cluster(sim: Sim, leader: { name: string }) {
  const calls: string[] = [];
  const ends: ClientEnd[] = [];
  for (const name of ['s0', 's1', 's2']) {
    const server = new RpcServer({ logger: silentLogger }).addService('Svc', {
      who: () => {
        calls.push(name);
        return { who: name, wrong: name !== leader.name };
      },
      broken: () => {
        throw new Error('boom');
      },
    });
    sim.net.addServer(name, server);
    ends.push(sim.net.makeEnd(`e-${name}`));
    sim.net.connect(`e-${name}`, name);
    sim.net.enable(`e-${name}`, true);
  }
  return { ends, calls };
}

function caller(sim: Sim, ends: readonly ClientEnd[]): LeaderCaller {
  return new LeaderCaller(ends, {
    callTimeoutMs: 1000,
    retryDelayMs: 100,
    clock: sim.clock,
    errors,
  });
}

describe('LeaderCaller', () => {
  it('tries the ends in turn until one is done, then starts from it', async () => {
    await simulate(
      async (sim) => {
        const { ends, calls } = cluster(sim, { name: 's2' });
        const c = caller(sim, ends);
        await expect(c.call('Svc.who', {}, judge)).resolves.toBe('s2');
        await expect(c.call('Svc.who', {}, judge)).resolves.toBe('s2');
        expect(calls).toEqual(['s0', 's1', 's2', 's2']);
      },
      { seed: 1 },
    );
  });

  it('skips an unreachable end and pauses after each full round of failures', async () => {
    await simulate(
      async (sim) => {
        const leader = { name: 'none' };
        const { ends, calls } = cluster(sim, leader);
        sim.net.enable('e-s0', false);
        const c = caller(sim, ends);
        const start = sim.clock.now();
        const done = c.call('Svc.who', {}, judge);
        await sim.sleep(250);
        leader.name = 's1';
        await expect(done).resolves.toBe('s1');
        // Rounds end at ~0, ~100, ~200 ms (+ up to 99 ms per unreachable attempt); s1 answers in the fourth.
        expect(calls.filter((s) => s === 's1').length).toBeGreaterThanOrEqual(3);
        expect(sim.clock.now() - start).toBeGreaterThanOrEqual(250);
      },
      { seed: 2 },
    );
  });

  it('maps refusals to the factory’s errors: wrong shape, unknown method, handler error', async () => {
    await simulate(
      async (sim) => {
        const { ends } = cluster(sim, { name: 's0' });
        const c = caller(sim, ends);
        await expect(c.call('Svc.who', {}, () => undefined)).rejects.toThrow(
          "bad request: Svc.who: the server's reply has the wrong shape",
        );
        await expect(c.call('Svc.nope', {}, judge)).rejects.toThrow(/^bad request: Svc.nope/);
        await expect(c.call('Svc.broken', {}, judge)).rejects.toThrow(
          /^server HANDLER_ERROR: Svc.broken/,
        );
      },
      { seed: 3 },
    );
  });

  it('runs ops serially in call order; close() ends the wait in progress and the queue at once, then runs onClose once', async () => {
    await simulate(
      async (sim) => {
        const { ends } = cluster(sim, { name: 'none' });
        let onCloses = 0;
        const c = new LeaderCaller(ends, {
          callTimeoutMs: 1000,
          retryDelayMs: 100,
          clock: sim.clock,
          errors,
          onClose: () => {
            onCloses++;
          },
        });
        const order: number[] = [];
        const first = c.serially(async () => {
          order.push(1);
          return c.call('Svc.who', {}, judge);
        });
        const second = c.serially(async () => {
          order.push(2);
          return 'never';
        });
        await sim.sleep(1000);
        const at = sim.clock.now();
        const closing = c.close();
        expect(c.close()).toBe(closing);
        await closing;
        expect(onCloses).toBe(1);
        await expect(first).rejects.toThrow('closed');
        await expect(second).rejects.toThrow('closed');
        await expect(c.serially(async () => 'later')).rejects.toThrow('closed');
        expect(order).toEqual([1]);
        expect(sim.clock.now()).toBe(at);
        expect(c.closed).toBe(true);
      },
      { seed: 4 },
    );
  });

  it('refuses no ends and non-positive timeouts with the factory’s config error', () => {
    const end: ClientEnd = { call: () => new Promise(() => {}) };
    const options = { callTimeoutMs: 1, retryDelayMs: 1, errors };
    expect(() => new LeaderCaller([], options)).toThrow('config ends');
    expect(() => new LeaderCaller([end], { ...options, callTimeoutMs: 0 })).toThrow(
      'config callTimeoutMs (0) must be a positive number of ms',
    );
    expect(() => new LeaderCaller([end], { ...options, retryDelayMs: Number.NaN })).toThrow(
      'config retryDelayMs',
    );
  });
});

describe('drawClientId', () => {
  it('draws integers in [0, 2^53), the same ones from the same seed', () => {
    const a = drawClientId(new SeededRandom(7));
    expect(a).toBe(drawClientId(new SeededRandom(7)));
    for (const id of [a, drawClientId()]) {
      expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
    }
  });
});

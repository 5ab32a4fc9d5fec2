import { checkGet, withServiceConfig } from '@flotilla/labkit';
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { Clerk, ClerkClosedError, KvraftConfigError, SessionConflictError } from '../src/index.js';
import { makeKvClerk, startKvLabServer } from './lab/config.js';

const options = { n: 3, maxraftstate: -1, startServer: startKvLabServer, makeClerk: makeKvClerk };

describe('Clerk', () => {
  it('runs one clerk’s operations one at a time, in call order', async () => {
    await simulateTest('kvraft-clerk-order', (sim) =>
      withServiceConfig(sim, options, async (cfg) => {
        const ck = cfg.makeClient();
        const calls = [
          ck.put('k', 'a'),
          ck.append('k', 'b'),
          ck.get('k'),
          ck.append('k', 'c'),
          ck.put('j', 'x'),
        ];
        const results = await Promise.all(calls);
        expect(results).toEqual([undefined, undefined, 'ab', undefined, undefined]);
        await checkGet(ck, 'k', 'abc');
        expect(await ck.get('never')).toBe('');
      }),
    );
  });

  it('close() rejects the operation in flight and later ones with ClerkClosedError, idempotently', async () => {
    await simulateTest('kvraft-clerk-close', (sim) =>
      withServiceConfig(sim, options, async (cfg) => {
        const ck = cfg.makeClient([]); // reaches no server: retries forever
        const inFlight = ck.put('k', 'v');
        const queued = ck.get('k');
        await sim.sleep(3000);
        const first = ck.close();
        const second = ck.close();
        expect(second).toBe(first);
        await expect(inFlight).rejects.toBeInstanceOf(ClerkClosedError);
        await expect(queued).rejects.toMatchObject({ code: 'ERR_CLERK_CLOSED' });
        await expect(ck.append('k', 'v')).rejects.toBeInstanceOf(ClerkClosedError);
        await first;
        await ck.close();
      }),
    );
  });

  it('finds the leader behind shuffled ends and survives a leader partition', async () => {
    await simulateTest('kvraft-clerk-leader-change', (sim) =>
      withServiceConfig(sim, { ...options, n: 5 }, async (cfg) => {
        const ck = cfg.makeClient();
        await ck.put('a', '1');
        const { leader } = cfg.leader();
        const rest = cfg.all().filter((i) => i !== leader);
        cfg.partition(rest, [leader]);
        await ck.append('a', '2');
        await checkGet(ck, 'a', '12');
        expect(cfg.leader().leader).not.toBe(leader);
      }),
    );
  });

  it('reports a client id shared with another clerk as SessionConflictError', async () => {
    await simulateTest('kvraft-clerk-conflict', (sim) =>
      withServiceConfig(sim, options, async (cfg) => {
        const a = cfg.makeClientWith(
          (ends, env) => new Clerk(ends, { clock: env.clock, clientId: 7 }),
        );
        const b = cfg.makeClientWith(
          (ends, env) => new Clerk(ends, { clock: env.clock, clientId: 7 }),
        );
        await a.put('k', '1');
        await a.put('k', '2');
        await expect(b.put('k', '3')).rejects.toBeInstanceOf(SessionConflictError);
      }),
    );
  });

  it('refuses options that cannot work', () => {
    expect(() => new Clerk([])).toThrow(KvraftConfigError);
    expect(
      () => new Clerk([{ call: async () => ({ ok: false, code: 'CLOSED' }) }], { retryDelayMs: 0 }),
    ).toThrow(KvraftConfigError);
  });
});

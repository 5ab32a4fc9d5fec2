import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  chooseSeed,
  hashSeed,
  SimulationError,
  seedFor,
  simulate,
  simulateTest,
} from '../src/index.js';

describe('simulate', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('runs async code in virtual time far faster than real time, and reports the run', async () => {
    const started = performance.now();
    const report = await simulate(
      async (sim) => {
        for (let i = 0; i < 1000; i++) await sim.sleep(1000);
        return sim.clock.now();
      },
      { seed: 11 },
    );
    expect(report.value).toBe(1_000_000);
    expect(report.seed).toBe(11);
    expect(report.events).toBe(1000);
    expect(report.virtualMs).toBe(1_000_000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('promise continuations settle before the next event fires', async () => {
    await simulate(
      async (sim) => {
        const order: string[] = [];
        sim.clock.setTimeout(() => {
          order.push('timer 1');
          void Promise.resolve()
            .then(() => Promise.resolve())
            .then(() => order.push('continuation of 1'));
        }, 5);
        sim.clock.setTimeout(() => order.push('timer 2'), 5);
        await sim.sleep(10);
        expect(order).toEqual(['timer 1', 'continuation of 1', 'timer 2']);
      },
      { seed: 12 },
    );
  });

  it('a failing scenario rethrows with its seed and how to replay it', async () => {
    await expect(
      simulate(
        async (sim) => {
          await sim.sleep(10);
          throw new Error('boom');
        },
        { seed: 31337 },
      ),
    ).rejects.toThrow(/boom[\s\S]*seed 31337 at virtual 10 ms; replay with FLOTILLA_SEED=31337/);
  });

  it('a scenario waiting on nothing is a deadlock, not a hang', async () => {
    const err = await simulate(() => new Promise<never>(() => {}), { seed: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(SimulationError);
    expect(err.code).toBe('ERR_SIM_DEADLOCK');
  });

  it('virtual time and event budgets stop runaway scenarios', async () => {
    const forever = async (sim: { sleep(ms: number): Promise<void> }): Promise<void> => {
      for (;;) await sim.sleep(1000);
    };
    await expect(simulate(forever, { seed: 1, maxVirtualMs: 60_000 })).rejects.toMatchObject({
      code: 'ERR_SIM_BUDGET',
    });
    await expect(simulate(forever, { seed: 1, maxEvents: 100 })).rejects.toMatchObject({
      code: 'ERR_SIM_BUDGET',
    });
  });

  it('FLOTILLA_SEED overrides the seed in code', async () => {
    vi.stubEnv('FLOTILLA_SEED', '777');
    expect(chooseSeed(1)).toBe(777);
    const report = await simulate(async (sim) => sim.random.int(1000), { seed: 1 });
    expect(report.seed).toBe(777);
    vi.stubEnv('FLOTILLA_SEED', 'abc');
    expect(() => chooseSeed(1)).toThrow(RangeError);
    vi.stubEnv('FLOTILLA_SEED', '');
    expect(chooseSeed(5)).toBe(5);
  });
});

describe('simulateTest', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('seeds a test from its name: the same every run, different per test', async () => {
    vi.stubEnv('FLOTILLA_SEED', '');
    expect(hashSeed('InitialElection3A')).toBe(hashSeed('InitialElection3A'));
    expect(hashSeed('InitialElection3A')).not.toBe(hashSeed('ReElection3A'));
    const report = await simulateTest('TestBasic2', async (sim) => sim.seed);
    expect(report.value).toBe(hashSeed('TestBasic2'));
    expect(seedFor('TestBasic2')).toBe(hashSeed('TestBasic2'));
    vi.stubEnv('FLOTILLA_SEED', '42');
    expect((await simulateTest('TestBasic2', async (sim) => sim.seed)).value).toBe(42);
  });

  it('running past the time limit fails as the labs say it', async () => {
    const slow = simulateTest('Slow', (sim) => sim.sleep(5000), { timeLimitMs: 1000 });
    await expect(slow).rejects.toThrow(/test took longer than 1 seconds of virtual time/);
    await expect(slow).rejects.toBeInstanceOf(SimulationError);
  });
});

import {
  ELECTION_TIMEOUT_MS,
  PARTITION_JITTER_MS,
  Pacer,
  SPEED_NS_PER_OP,
  speedLimitMs,
  startPartitioner,
} from '@flotilla/labkit';
import { describe, expect, it } from 'vitest';
import { run } from './support/run.js';

describe('Pacer', () => {
  it('pauses 0–2 × mean after a turn that took no virtual time, not after one that did', async () => {
    const { quick, slow } = await run('pacer', async (sim) => {
      const pacer = new Pacer(sim.clock, sim.random.fork(), 2);
      const quick: number[] = [];
      for (let k = 0; k < 200; k++) {
        const t = sim.clock.now();
        await pacer.turn(async () => {});
        quick.push(sim.clock.now() - t);
      }
      const t = sim.clock.now();
      await pacer.turn(() => sim.sleep(7));
      return { quick, slow: sim.clock.now() - t };
    });
    expect(Math.min(...quick)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...quick)).toBeLessThan(4);
    const mean = quick.reduce((a, b) => a + b, 0) / quick.length;
    expect(mean).toBeGreaterThan(1.5);
    expect(mean).toBeLessThan(2.5);
    expect(slow).toBe(7);
  });
});

describe('startPartitioner', () => {
  it('repartitions every electionTimeout + rand % 200 ms until stopped, covering all servers', async () => {
    const calls = await run('partitioner', async (sim) => {
      const calls: { at: number; p1: number[]; p2: number[] }[] = [];
      const cluster = {
        n: 5,
        partition: (p1: readonly number[], p2: readonly number[]) => {
          calls.push({ at: sim.clock.now(), p1: [...p1], p2: [...p2] });
        },
      };
      const partitioner = startPartitioner(cluster, sim.random.fork(), sim.clock);
      await sim.sleep(6000);
      const stopAt = sim.clock.now();
      await partitioner.stop();
      // stop() waits out the current sleep, as the lab's channel does.
      expect(sim.clock.now()).toBeGreaterThan(stopAt);
      expect(partitioner.rounds).toBe(calls.length);
      return calls;
    });
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(calls.length).toBeLessThanOrEqual(7);
    for (const [k, call] of calls.entries()) {
      expect([...call.p1, ...call.p2].sort()).toEqual([0, 1, 2, 3, 4]);
      const previous = calls[k - 1];
      if (previous === undefined) continue;
      const gap = call.at - previous.at;
      expect(gap).toBeGreaterThanOrEqual(ELECTION_TIMEOUT_MS);
      expect(gap).toBeLessThan(ELECTION_TIMEOUT_MS + PARTITION_JITTER_MS);
    }
    expect(new Set(calls.map((c) => JSON.stringify(c.p1))).size).toBeGreaterThan(1);
  });
});

describe('timing constants', () => {
  it('GenericTestSpeed allows 100 ms / 3 per op in integer ns: 33.33 s for 1,000', () => {
    expect(SPEED_NS_PER_OP).toBe(33_333_333);
    expect(speedLimitMs()).toBeCloseTo(33_333.333, 3);
  });
});

import { passedLine } from '@flotilla/labkit';
import { describe, expect, it } from 'vitest';
import { Lines, run, withFakeConfig } from './support/run.js';

describe("the lab's begin / end lines", () => {
  it('formats as kvraft\'s end(): "  ... Passed --  %4.1f  %d %5d %4d"', () => {
    expect(passedLine({ seconds: 2.5, peers: 5, rpcs: 42, ops: 7 })).toBe(
      '  ... Passed --   2.5  5    42    7',
    );
    expect(passedLine({ seconds: 15.04, peers: 7, rpcs: 123456, ops: 12345 })).toBe(
      '  ... Passed --  15.0  7 123456 12345',
    );
  });

  it('counts virtual seconds, peers, RPCs and completed clerk ops from begin()', async () => {
    const lines = new Lines();
    const expected = await run('end-line', (sim) =>
      withFakeConfig(sim, { log: lines.log }, async (cfg) => {
        const { world } = cfg;
        const ck = world.counted(cfg.makeClient());
        await ck.put('before', 'x'); // before begin(): not counted
        await sim.sleep(700);
        world.begin('Test: counting (4A)');
        const rpcs0 = world.rpcTotal();
        await ck.put('a', '1');
        await ck.append('a', '2');
        expect(await ck.get('a')).toBe('12');
        await cfg.makeClient().get('a'); // not counted: not through a counted clerk
        await world.sleep(2500);
        const stats = world.stats();
        expect(stats).toEqual({ seconds: 2.5, peers: 5, rpcs: world.rpcTotal() - rpcs0, ops: 3 });
        world.end();
        return stats;
      }),
    );
    expect(expected.rpcs).toBeGreaterThanOrEqual(4);
    expect(lines.lines).toEqual(['Test: counting (4A) ...', passedLine(expected)]);
  });

  it('end() fails instead when background work failed', async () => {
    const err = await run('end-error', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        cfg.world.begin('Test: failing');
        void cfg.world.go(async () => {
          throw new Error('client 3 saw a wrong value');
        });
        await sim.sleep(1);
        cfg.world.end();
      }),
    ).catch((e: unknown) => e);
    expect(String(err)).toMatch(/LabError: client 3 saw a wrong value/);
  });
});

import { type CallContext, type ServiceMethods, simulate } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { approxBytes, CpuCore, withCpu } from '../bench/cpu-model.js';

const ctx: CallContext = { peer: 'test' };

/** A service whose handlers record when they start (virtual ms) and what they got. */
function recorder(clock: { now(): number }) {
  const starts: { name: string; at: number; args: unknown }[] = [];
  const methods: ServiceMethods = {
    Op: (args: { name: string }) => {
      starts.push({ name: args.name, at: clock.now(), args });
      return `done ${args.name}`;
    },
  };
  return { starts, methods };
}

describe('bench CPU model', () => {
  it('runs a node’s handlers one at a time, FIFO, each after its cost', async () => {
    const { value } = await simulate(async (sim) => {
      const core = new CpuCore('n0', sim.clock);
      const { starts, methods } = recorder(sim.clock);
      // Costs in µs by name: A 10 ms, B 5 ms, C 20 ms — FIFO, not shortest first.
      const costUs: Record<string, number> = { A: 10_000, B: 5_000, C: 20_000, D: 10_000 };
      const seen: string[] = [];
      const svc = withCpu({ Svc: methods }, core, (method, args) => {
        seen.push(method);
        return costUs[(args as { name: string }).name] ?? 0;
      });
      const op = svc.Svc?.Op as (args: never, c: CallContext) => Promise<unknown>;
      const replies = [
        op({ name: 'A' } as never, ctx),
        op({ name: 'B' } as never, ctx),
        op({ name: 'C' } as never, ctx),
      ];
      expect(starts).toEqual([]); // nothing runs before its cost is paid
      await sim.sleep(4);
      // D arrives at 4 ms behind 35 ms of queued work: it starts its 10 ms at 35.
      replies.push(op({ name: 'D' } as never, ctx));
      expect(core.busyMs()).toBeCloseTo(4);
      expect(core.backlogMs()).toBeCloseTo(41);
      const results = await Promise.all(replies);
      return { starts, results, seen, busy: core.busyMs(), jobs: core.jobs, now: sim.clock.now() };
    });
    expect(value.starts.map((s) => [s.name, s.at])).toEqual([
      ['A', 10],
      ['B', 15],
      ['C', 35],
      ['D', 45],
    ]);
    expect(value.starts[0]?.args).toEqual({ name: 'A' });
    expect(value.results).toEqual(['done A', 'done B', 'done C', 'done D']);
    expect(value.seen).toEqual(['Svc.Op', 'Svc.Op', 'Svc.Op', 'Svc.Op']);
    expect(value.busy).toBeCloseTo(45);
    expect(value.jobs).toBe(4);
    expect(value.now).toBe(45);
  });

  it('starts at once on an idle core and counts idle time as not busy', async () => {
    const { value } = await simulate(async (sim) => {
      const core = new CpuCore('n0', sim.clock);
      await core.run(2_000, () => {});
      await sim.sleep(100); // idle 2 → 102
      const at = await core.run(3_000, () => sim.clock.now());
      await sim.sleep(5);
      return { at, busy: core.busyMs(), now: sim.clock.now() };
    });
    expect(value.at).toBeCloseTo(105);
    expect(value.busy).toBeCloseTo(5);
    expect(value.now).toBeCloseTo(110);
  });

  it('frees the core while a handler awaits, and keeps nodes independent', async () => {
    const { value } = await simulate(async (sim) => {
      const a = new CpuCore('a', sim.clock);
      const b = new CpuCore('b', sim.clock);
      const log: string[] = [];
      const slow = a.run(1_000, async () => {
        log.push(`slow start ${sim.clock.now()}`);
        await sim.sleep(50); // e.g. a Put waiting for its commit
        log.push(`slow end ${sim.clock.now()}`);
      });
      const next = a.run(1_000, () => log.push(`next ${sim.clock.now()}`));
      const other = b.run(1_000, () => log.push(`other ${sim.clock.now()}`));
      await Promise.all([slow, next, other]);
      return log;
    });
    expect(value).toEqual(['slow start 1', 'other 1', 'next 2', 'slow end 51']);
  });

  it('passes a handler’s rejection through', async () => {
    const { value } = await simulate(async (sim) => {
      const core = new CpuCore('n0', sim.clock);
      const svc = withCpu(
        {
          S: {
            Fail: () => {
              throw new Error('boom');
            },
          },
        },
        core,
        () => 1_000,
      );
      const fail = svc.S?.Fail as (args: never, c: CallContext) => Promise<unknown>;
      return fail(undefined as never, ctx).catch((err: Error) => err.message);
    });
    expect(value).toBe('boom');
  });

  it('estimates message sizes', () => {
    expect(approxBytes('abc')).toBe(8);
    expect(approxBytes(7)).toBe(9);
    expect(approxBytes([1, 'x'.repeat(128)])).toBe(5 + 9 + 133);
    expect(approxBytes({ k: 'v' })).toBe(5 + 5 + 1 + 6);
  });
});

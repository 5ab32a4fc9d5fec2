/**
 * End to end, in the shape of the lab's GenericTest: clerks append to their own keys through
 * an unreliable network while servers are partitioned at random and all restarted between
 * rounds; every append appears exactly once and in order, the replicas agree, and with
 * maxraftstate 1000 the Raft state stays within 8 × 1000 bytes.
 */
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { Clerk } from './support/clerk.js';
import { withCluster } from './support/cluster.js';

const SERVERS = 5;
const CLERKS = 3;

describe('clerks on rsm', () => {
  it.each([-1, 1000])(
    'apply every append exactly once through partitions, restarts and loss (maxraftstate %i)',
    async (maxraftstate) => {
      await simulateTest(`clerks-${maxraftstate}`, (sim) =>
        withCluster(sim, SERVERS, { maxraftstate, unreliable: true }, async (c) => {
          const clerks = Array.from(
            { length: CLERKS },
            (_, i) => new Clerk(sim, c.clerkEnds(`clerk${i}`), 100 + i),
          );
          const expected = clerks.map(() => '');
          let maxLog = 0;
          for (let round = 0; round < 3; round++) {
            let stop = false;
            const running = clerks.map(async (clerk, i) => {
              for (let j = 0; !stop; j++) {
                const value = `x ${i} ${round}.${j} y|`;
                await clerk.submit({ type: 'append', key: `k${i}`, value });
                expected[i] += value;
                maxLog = Math.max(maxLog, c.logSize());
              }
            });
            const partitioner = (async () => {
              await sim.sleep(500);
              while (!stop) {
                const groups: number[][] = [[], []];
                for (let s = 0; s < SERVERS; s++) groups[sim.random.int(2)]?.push(s);
                c.partition(...groups);
                await sim.sleep(1000 + sim.random.int(200));
              }
            })();
            await sim.sleep(4000);
            stop = true;
            await partitioner;
            c.connectAll();
            await Promise.all(running);
            for (let s = 0; s < SERVERS; s++) c.crash1(s);
            for (let s = 0; s < SERVERS; s++) await c.start1(s);
          }
          const check = new Clerk(sim, c.clerkEnds('check'), 1);
          for (let i = 0; i < CLERKS; i++) {
            expect(await check.submit({ type: 'get', key: `k${i}` })).toBe(expected[i]);
            expect((expected[i] as string).length).toBeGreaterThan(0);
          }
          const leader = await c.leader();
          await c.appliedEverywhere(c.server(leader).lastApplied);
          for (let s = 0; s < SERVERS; s++) {
            expect(c.machine(s).snapshot()).toEqual(c.machine(leader).snapshot());
          }
          if (maxraftstate > 0) expect(maxLog).toBeLessThanOrEqual(8 * maxraftstate);
          else expect(c.snapshotSize()).toBe(0);
          // The network lost and refused enough for retries to have happened.
          expect(clerks.reduce((n, clerk) => n + clerk.retries, 0)).toBeGreaterThan(0);
        }),
      );
    },
  );
});

/**
 * The duplicate table: an op resubmitted with the same (clientId, seq) applies once, across a
 * leader change and across restarts (from the log alone, and from a snapshot), and answers
 * with the first run's result; an older seq is refused as stale.
 */
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { StaleRequestError } from '../src/index.js';
import type { RsmCluster } from './support/cluster.js';
import { withCluster } from './support/cluster.js';

/** How many times each replica applied an append of `value`. */
const appliedCounts = (c: RsmCluster, value: string): number[] =>
  c.machines.map(
    (m) => m?.applied.filter(({ op }) => op.type === 'append' && op.value === value).length ?? 0,
  );

describe('exactly once', () => {
  it('a resubmit on the new leader after a leader change answers the cached result', async () => {
    await simulateTest('dedupe-leader-change', (sim) =>
      withCluster(sim, 3, {}, async (c) => {
        const old = await c.leader();
        const session = { clientId: 'clerk-1', seq: 1 };
        expect(await c.server(old).submit({ type: 'append', key: 'k', value: 'x' }, session)).toBe(
          'x',
        );
        await c.appliedEverywhere(c.server(old).lastApplied);
        c.crash1(old);
        const fresh = await c.leader();
        // Another client's write comes in between: the cached result is the first run's.
        await c
          .server(fresh)
          .submit({ type: 'append', key: 'k', value: 'y' }, { clientId: 2, seq: 1 });
        expect(
          await c.server(fresh).submit({ type: 'append', key: 'k', value: 'x' }, session),
        ).toBe('x');
        expect(c.machine(fresh).get('k')).toBe('xy');
        await c.start1(old);
        await c.appliedEverywhere(c.server(fresh).lastApplied);
        expect(c.machine(old).get('k')).toBe('xy');
        // The restarted server replayed the log: once per replica for each of its runs.
        expect(appliedCounts(c, 'x')).toEqual([1, 1, 1]);
      }),
    );
  });

  it.each([
    ['the log', -1],
    ['a snapshot', 300],
  ])('survives a restart of every server, rebuilt from %s', async (_, maxraftstate) => {
    await simulateTest(`dedupe-restart-${maxraftstate}`, (sim) =>
      withCluster(sim, 3, { maxraftstate }, async (c) => {
        for (let seq = 1; seq <= 20; seq++) {
          await c.submitToLeader(
            { type: 'append', key: 'k', value: `${seq},` },
            { clientId: 9, seq },
          );
        }
        const expected = c.machine(await c.leader()).get('k');
        for (let i = 0; i < 3; i++) c.crash1(i);
        for (let i = 0; i < 3; i++) await c.start1(i);
        const retried = await c.submitToLeader(
          { type: 'append', key: 'k', value: '20,' },
          { clientId: 9, seq: 20 },
        );
        expect(retried).toBe(expected);
        await c.appliedEverywhere(c.server(await c.leader()).lastApplied);
        for (let i = 0; i < 3; i++) {
          expect(c.machine(i).get('k')).toBe(expected);
          // From its own snapshot at restart, and maybe the leader's later (InstallSnapshot).
          if (maxraftstate > 0) expect(c.machine(i).restores).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });

  it('refuses an older seq of a client with StaleRequestError and changes nothing', async () => {
    await simulateTest('dedupe-stale', (sim) =>
      withCluster(sim, 3, {}, async (c) => {
        const leader = c.server(await c.leader());
        await leader.submit({ type: 'put', key: 'k', value: 'one' }, { clientId: 5, seq: 1 });
        await leader.submit({ type: 'put', key: 'k', value: 'two' }, { clientId: 5, seq: 2 });
        const err = await leader
          .submit({ type: 'put', key: 'k', value: 'one' }, { clientId: 5, seq: 1 })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StaleRequestError);
        expect(err).toMatchObject({ code: 'ERR_STALE_REQUEST', clientId: 5, seq: 1, lastSeq: 2 });
        // Same seq from another client is its own op.
        expect(
          await leader.submit({ type: 'put', key: 'k', value: 'three' }, { clientId: 6, seq: 1 }),
        ).toBe('three');
        expect(leader.machine.get('k')).toBe('three');
      }),
    );
  });

  it('rejects a malformed session without proposing', async () => {
    await simulateTest('dedupe-bad-session', (sim) =>
      withCluster(sim, 3, {}, async (c) => {
        const leader = c.server(await c.leader());
        const index = leader.lastApplied;
        await expect(
          leader.submit({ type: 'put', key: 'k', value: 'v' }, { clientId: 1, seq: 0 }),
        ).rejects.toBeInstanceOf(TypeError);
        await sim.sleep(300);
        expect(leader.lastApplied).toBe(index);
      }),
    );
  });
});

/**
 * submit on 3- and 5-server clusters: the leader answers with the machine's result once the op
 * is applied; a follower refuses with NotLeaderError naming the leader, having proposed
 * nothing; every replica ends in the same state.
 */
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../src/index.js';
import { withCluster } from './support/cluster.js';

describe.each([3, 5])('submit on %i servers', (n) => {
  it('resolves on the leader with the result of applying the op, in order', async () => {
    await simulateTest(`submit-leader-${n}`, (sim) =>
      withCluster(sim, n, {}, async (c) => {
        const leader = c.server(await c.leader());
        expect(await leader.submit({ type: 'put', key: 'k', value: 'a' })).toBe('a');
        expect(await leader.submit({ type: 'append', key: 'k', value: 'b' })).toBe('ab');
        const results = await Promise.all(
          ['c', 'd', 'e'].map((value) => leader.submit({ type: 'append', key: 'k', value })),
        );
        // Concurrent submits are applied in the order they were proposed.
        expect(results).toEqual(['abc', 'abcd', 'abcde']);
        await c.appliedEverywhere(leader.lastApplied);
        for (let i = 0; i < n; i++) {
          expect(c.machine(i).snapshot()).toEqual([['k', 'abcde']]);
          // The leaders' no-ops were skipped: each replica applied five ops.
          expect(c.machine(i).applied).toHaveLength(5);
        }
      }),
    );
  });

  it('rejects on a follower with NotLeaderError carrying the leader hint, and proposes nothing', async () => {
    await simulateTest(`submit-follower-${n}`, (sim) =>
      withCluster(sim, n, {}, async (c) => {
        const leaderId = await c.leader();
        await c.server(leaderId).submit({ type: 'put', key: 'k', value: 'a' });
        await c.appliedEverywhere(c.server(leaderId).lastApplied);
        const followerId = (leaderId + 1) % n;
        const follower = c.server(followerId);
        const before = c.persisters[followerId]?.raftStateSize();
        const err = await follower.submit({ type: 'put', key: 'k', value: 'b' }).catch((e) => e);
        expect(err).toBeInstanceOf(NotLeaderError);
        expect(err).toMatchObject({ code: 'ERR_NOT_LEADER', leaderHint: leaderId });
        await sim.sleep(500);
        expect(c.persisters[followerId]?.raftStateSize()).toBe(before);
        for (let i = 0; i < n; i++) expect(c.machine(i).get('k')).toBe('a');
      }),
    );
  });
});

/**
 * Snapshots on a cluster, with the lab's numbers: with maxraftstate 1000 the persisted Raft
 * state stays within 8 × 1000 bytes; with -1 no snapshot is ever saved (size 0); a restart
 * from snapshot + log, and a follower caught up by InstallSnapshot, reach identical state.
 */
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { withCluster } from './support/cluster.js';

describe('snapshots', () => {
  it('keep the Raft state within 8 × maxraftstate (1000)', async () => {
    await simulateTest('snapshot-size', (sim) =>
      withCluster(sim, 3, { maxraftstate: 1000 }, async (c) => {
        let maxLog = 0;
        for (let i = 0; i < 200; i++) {
          await c.submitToLeader(
            { type: 'put', key: 'x', value: String(i % 2) },
            { clientId: 1, seq: i + 1 },
          );
          maxLog = Math.max(maxLog, c.logSize());
        }
        expect(maxLog).toBeLessThanOrEqual(8 * 1000);
        // The snapshot holds the state and the duplicate table, not the history.
        expect(c.snapshotSize()).toBeGreaterThan(0);
        expect(c.snapshotSize()).toBeLessThanOrEqual(500);
        for (let i = 0; i < 3; i++) expect(c.server(i).snapshotsTaken).toBeGreaterThan(0);
      }),
    );
  });

  it('are never taken with maxraftstate -1: snapshot size stays 0', async () => {
    await simulateTest('snapshot-never', (sim) =>
      withCluster(sim, 3, { maxraftstate: -1 }, async (c) => {
        for (let i = 0; i < 300; i++) {
          await c.submitToLeader(
            { type: 'append', key: 'x', value: 'abcdefghij' },
            { clientId: 1, seq: i + 1 },
          );
        }
        expect(c.logSize()).toBeGreaterThan(8 * 1000);
        expect(c.snapshotSize()).toBe(0);
        for (let i = 0; i < 3; i++) expect(c.server(i).snapshotsTaken).toBe(0);
      }),
    );
  });

  it('a restart from snapshot + log restores identical state on every replica', async () => {
    await simulateTest('snapshot-restart', (sim) =>
      withCluster(sim, 5, { maxraftstate: 500 }, async (c) => {
        for (let i = 0; i < 60; i++) {
          await c.submitToLeader(
            { type: 'append', key: `k${i % 7}`, value: `${i};` },
            { clientId: i % 3, seq: Math.floor(i / 3) + 1 },
          );
        }
        const leader = await c.leader();
        await c.appliedEverywhere(c.server(leader).lastApplied);
        const before = c.machine(leader).snapshot();
        for (let i = 0; i < 5; i++) {
          expect(c.persisters[i]?.snapshotSize()).toBeGreaterThan(0);
          c.crash1(i);
        }
        for (let i = 0; i < 5; i++) await c.start1(i);
        for (let i = 0; i < 5; i++) {
          // Restored from the snapshot alone (the apply stream's first message), then the log.
          expect(c.machine(i).restores).toBe(1);
        }
        const fresh = await c.leader();
        await c.server(fresh).submit({ type: 'get', key: 'k0' });
        await c.appliedEverywhere(c.server(fresh).lastApplied);
        for (let i = 0; i < 5; i++) expect(c.machine(i).snapshot()).toEqual(before);
      }),
    );
  });

  it('a lagging follower is caught up by InstallSnapshot and reaches the same state', async () => {
    await simulateTest('snapshot-install', (sim) =>
      withCluster(sim, 3, { maxraftstate: 1000 }, async (c) => {
        const leader = await c.leader();
        const lagging = (leader + 1) % 3;
        c.partition(
          [0, 1, 2].filter((i) => i !== lagging),
          [lagging],
        );
        for (let i = 0; i < 100; i++) {
          await c.submitToLeader(
            { type: 'put', key: `k${i % 10}`, value: `v${i}` },
            { clientId: 3, seq: i + 1 },
          );
        }
        expect(c.logSize()).toBeLessThanOrEqual(8 * 1000);
        expect(c.machine(lagging).restores).toBe(0);
        c.connectAll();
        const current = await c.leader();
        await c.appliedEverywhere(c.server(current).lastApplied);
        expect(c.machine(lagging).restores).toBeGreaterThanOrEqual(1);
        expect(c.machine(lagging).snapshot()).toEqual(c.machine(current).snapshot());
        // Its duplicate table came with the snapshot: a retry of the last op is not reapplied.
        const applies = c.machine(current).applied.length;
        expect(
          await c
            .server(current)
            .submit({ type: 'put', key: 'k9', value: 'v99' }, { clientId: 3, seq: 100 }),
        ).toBe('v99');
        await c.appliedEverywhere(c.server(current).lastApplied);
        expect(c.machine(current).applied.length).toBe(applies);
      }),
    );
  });
});

import { checkLogSizes, checkLogs } from '@flotilla/labkit';
import type { MemoryPersister } from '@flotilla/raft';
import { encode } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { type FakeCluster, run, withFakeConfig } from './support/run.js';

/** Saves `entries` commands of `bytes` characters each, and a snapshot of `snapshot` bytes. */
function fill(p: MemoryPersister | undefined, entries: number, bytes: number, snapshot = 0): void {
  if (p === undefined) throw new Error('no persister');
  const command = 'x'.repeat(bytes);
  p.save({
    hardState: { term: 1, votedFor: null },
    entries: { from: 1, entries: Array.from({ length: entries }, () => ({ term: 1, command })) },
  });
  if (snapshot > 0) {
    p.save({ snapshot: { index: entries, term: 1, data: new Uint8Array(snapshot) } });
  }
}

describe('logSize / snapshotSize', () => {
  it('take the max over all servers, those down included', async () => {
    await run('sizes-max', (sim) =>
      withFakeConfig(sim, { n: 3 }, async (cfg) => {
        expect([cfg.logSize(), cfg.snapshotSize(), cfg.storageSize()]).toEqual([0, 0, 0]);
        fill(cfg.persister(0), 2, 100);
        fill(cfg.persister(1), 5, 100);
        fill(cfg.persister(2), 1, 10, 700);
        const raft = [0, 1, 2].map((i) => cfg.persister(i)?.raftStateSize() ?? 0);
        expect(raft[1]).toBeGreaterThan(raft[0] as number);
        expect(cfg.logSize()).toBe(raft[1]);
        expect(cfg.snapshotSize()).toBe(700);
        expect(cfg.storageSize()).toBe((raft[0] ?? 0) + (raft[1] ?? 0) + (raft[2] ?? 0) + 700);
        cfg.shutdownServer(1); // its saved state still counts, as the lab's saved[i] does
        expect(cfg.logSize()).toBe(raft[1]);
      }),
    );
  });

  it('follow what a service saves: snapshots past maxraftstate keep the log short', async () => {
    await run('sizes-service', (sim) =>
      withFakeConfig(sim, { n: 3, maxraftstate: 200 }, async (cfg) => {
        const ck = cfg.makeClient();
        for (let i = 0; i < 30; i++) await ck.append('k', `value ${i} `);
        expect(cfg.logSize()).toBeLessThanOrEqual(200);
        expect(cfg.snapshotSize()).toBeGreaterThan(encode([['k', 'value 0 ']]).length);
        checkLogSizes(cfg);
        checkLogs([cfg]);
      }),
    );
  });
});

describe('checkLogSizes (kvraft) and checkLogs (shardkv)', () => {
  async function withSizes(maxraftstate: number, body: (cfg: FakeCluster) => void): Promise<void> {
    await run('size-checks', (sim) =>
      withFakeConfig(sim, { n: 3, maxraftstate }, async (cfg) => body(cfg)),
    );
  }

  it('maxraftstate > 0: Raft state over 8 × maxraftstate fails', async () => {
    await withSizes(100, (cfg) => {
      fill(cfg.persister(2), 20, 50);
      const size = cfg.logSize();
      expect(size).toBeGreaterThan(800);
      expect(() => checkLogSizes(cfg)).toThrow(`logs were not trimmed (${size} > 8*100)`);
      expect(() => checkLogs([cfg])).toThrow(
        `persister.RaftStateSize() ${size}, but maxraftstate 100`,
      );
      expect(() => checkLogSizes(cfg, 1000)).not.toThrow();
    });
  });

  it('maxraftstate -1: any snapshot fails', async () => {
    await withSizes(-1, (cfg) => {
      fill(cfg.persister(0), 30, 50); // a long log is fine without snapshots
      checkLogSizes(cfg);
      checkLogs([cfg]);
      fill(cfg.persister(1), 1, 1, 5);
      expect(() => checkLogSizes(cfg)).toThrow(
        'snapshot too large (5), should not be used when maxraftstate = -1',
      );
      expect(() => checkLogs([cfg])).toThrow('maxraftstate is -1, but snapshot is non-empty!');
    });
  });
});

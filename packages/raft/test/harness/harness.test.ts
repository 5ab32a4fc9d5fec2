import { encode } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { AppliedLogs, type Snapshotter } from './appliers.js';
import { makeCluster } from './cluster.js';
import { hashSeed, runScenario } from './run.js';

/** The harness's own checks must catch what the lab's catch; these feed it bad applies directly. */
describe('lab harness', () => {
  it('plain applier: a different command at an index another server applied is an error', () => {
    const logs = new AppliedLogs(2);
    logs.plain(0)({ type: 'command', index: 1, term: 1, command: 'x' });
    logs.plain(1)({ type: 'command', index: 1, term: 1, command: 'y' });
    expect(logs.firstError()).toMatch(/commit index=1 server=1 "y" != server=0 "x"/);
  });

  it('plain applier: applying index i before i-1 is an error', () => {
    const logs = new AppliedLogs(1);
    logs.plain(0)({ type: 'command', index: 1, term: 1, command: 1 });
    logs.plain(0)({ type: 'command', index: 3, term: 1, command: 3 });
    expect(logs.firstError()).toMatch(/server 0 apply out of order 3/);
  });

  it('snapshotting applier: snapshots every 10 entries and ingests snapshot messages', () => {
    const logs = new AppliedLogs(2);
    const taken: { index: number; data: Uint8Array }[] = [];
    const node: Snapshotter = { snapshot: (index, data) => taken.push({ index, data }) };
    const apply0 = logs.snapshotting(0, () => node).onApply;
    for (let index = 1; index <= 19; index++) {
      apply0({ type: 'command', index, term: 1, command: index * 10 });
    }
    expect(taken.map((t) => t.index)).toEqual([9, 19]);
    expect(logs.firstError()).toBeUndefined();

    const apply1 = logs.snapshotting(1, () => node).onApply;
    apply1({
      type: 'snapshot',
      index: 19,
      term: 1,
      snapshot: (taken[1] as { data: Uint8Array }).data,
    });
    expect(logs.lastApplied[1]).toBe(19);
    expect(logs.logs[1]?.get(19)).toBe(190);
    apply1({ type: 'command', index: 20, term: 1, command: 200 });
    expect(logs.firstError()).toBeUndefined();
    apply1({ type: 'command', index: 22, term: 1, command: 220 });
    expect(logs.firstError()).toMatch(/server 1 apply out of order, expected index 21, got 22/);
  });

  it("snapshotting applier: a snapshot message whose index differs from the snapshot's is an error", () => {
    const logs = new AppliedLogs(1);
    const snapshot = encode({ lastIncludedIndex: 2, log: [null, 1, 2] });
    logs
      .snapshotting(0, () => undefined)
      .onApply({ type: 'snapshot', index: 3, term: 1, snapshot });
    expect(logs.firstError()).toMatch(/snapshot doesn't match/);
  });

  it('an applier error fails the next harness check', async () => {
    const err = await runScenario(
      'harness-self-test',
      async (sim) => {
        const cfg = await makeCluster(sim, 3, { quiet: true });
        try {
          cfg.applied.plain(0)({ type: 'command', index: 5, term: 1, command: 5 });
          await cfg.sleep(10);
        } finally {
          cfg.cleanup();
        }
      },
      7,
    ).catch((e: unknown) => e);
    expect(String(err)).toMatch(/HarnessError: apply error: server 0 apply out of order 5/);
    expect(String(err)).toMatch(/replay with FLOTILLA_SEED=\d+/);
  });

  it('a scenario over 120 s of virtual time fails as the lab times out', async () => {
    const err = await runScenario('harness-self-test', (sim) => sim.sleep(121_000), 1).catch(
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/test took longer than 120 seconds of virtual time/);
  });

  it('seeds derive stably from names', () => {
    expect(hashSeed('InitialElection3A')).toBe(hashSeed('InitialElection3A'));
    expect(hashSeed('InitialElection3A')).not.toBe(hashSeed('ReElection3A'));
  });
});

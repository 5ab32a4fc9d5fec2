import { VirtualClock } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../src/core/raft.js';
import { RaftConfigError } from '../src/errors.js';
import { RaftNode, type RaftNodeOptions } from '../src/node.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import { coreConfig } from './support/core-config.js';

/** Expects `run` to throw a RaftConfigError about `option`, its message naming it. */
function expectConfigError(run: () => unknown, option: string, message?: RegExp): void {
  let thrown: unknown;
  try {
    run();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(RaftConfigError);
  expect(thrown).toMatchObject({ code: 'ERR_RAFT_CONFIG', option });
  expect((thrown as Error).message).toContain(option);
  if (message !== undefined) expect((thrown as Error).message).toMatch(message);
}

describe('RaftCore validates its whole config up front', () => {
  it.each([
    ['peerCount', { peerCount: 0 }, /positive integer/],
    ['peerCount', { peerCount: 2.5 }, /positive integer/],
    ['me', { me: 3 }, /\[0, peerCount = 3\)/],
    ['me', { me: -1 }, undefined],
    ['me', { me: 0.5 }, undefined],
    ['electionTicks', { electionTicks: 0 }, /positive integer/],
    ['electionTicks', { electionTicks: 2.5 }, /positive integer/],
    ['electionTicks', { electionTicks: Number.NaN }, undefined],
    ['heartbeatTicks', { heartbeatTicks: 0 }, /positive integer/],
    ['heartbeatTicks', { heartbeatTicks: -2 }, /positive integer/],
    ['heartbeatTicks', { heartbeatTicks: 10, electionTicks: 10 }, /less than electionTicks \(10\)/],
    ['heartbeatTicks', { heartbeatTicks: 11, electionTicks: 10 }, /time out between heartbeats/],
    ['maxEntriesPerAppend', { maxEntriesPerAppend: 0 }, /replication stalls/],
    ['maxEntriesPerAppend', { maxEntriesPerAppend: -1 }, undefined],
    ['maxAppendBytes', { maxAppendBytes: 0 }, /room for an entry/],
    ['maxAppendBytes', { maxAppendBytes: 1.5 }, undefined],
    ['maxInflightAppends', { maxInflightAppends: 0 }, /never sent an entry/],
    ['maxInflightAppends', { maxInflightAppends: 1.5 }, undefined],
    ['checkQuorum', { checkQuorum: 'yes' }, /boolean/],
    ['preVote', { preVote: 1 }, /boolean/],
    ['noopOnElection', { noopOnElection: undefined }, /boolean/],
    ['random', { random: {} }, /int\(n\)/],
  ] as const)('%s: %j', (option, override, message) => {
    const config = { ...coreConfig(0, 3), ...override } as never;
    expectConfigError(() => new RaftCore(config), option, message);
  });

  it('accepts the smallest working settings', () => {
    const config = {
      ...coreConfig(0, 1),
      electionTicks: 2,
      heartbeatTicks: 1,
      maxEntriesPerAppend: 1,
      maxInflightAppends: 1,
    };
    expect(() => new RaftCore(config)).not.toThrow();
  });
});

describe('RaftNode.create validates every option before it loads the persister', () => {
  const silent = { call: () => new Promise<never>(() => {}) };

  function options(extra: Record<string, unknown>): { options: RaftNodeOptions; loads: number[] } {
    const loads: number[] = [];
    const persister = new MemoryPersister();
    const load = persister.load.bind(persister);
    persister.load = () => {
      loads.push(1);
      return load();
    };
    return {
      loads,
      options: {
        me: 0,
        peers: [null, silent, silent],
        persister,
        clock: new VirtualClock(),
        random: { int: () => 0 },
        ...extra,
      } as RaftNodeOptions,
    };
  }

  it.each([
    ['peers', { peers: [] }, /at least one server/],
    ['me', { me: 3 }, /must index peers \(length 3\)/],
    ['me', { me: 1.5 }, undefined],
    ['tickMs', { tickMs: 0 }, /from 1 to/],
    ['tickMs', { tickMs: -50 }, undefined],
    ['tickMs', { tickMs: 12.5 }, /integer/],
    ['tickMs', { tickMs: 2 ** 31 }, /2147483647/],
    ['persister', { persister: {} }, /load\(\) and save\(\)/],
    ['clock', { clock: { now: () => 0 } }, /setTimeout/],
    ['electionTicks', { electionTicks: 0 }, undefined],
    ['heartbeatTicks', { heartbeatTicks: 10 }, /less than electionTicks \(10\)/],
    ['heartbeatTicks', { electionTicks: 3, heartbeatTicks: 3 }, undefined],
    ['maxEntriesPerAppend', { maxEntriesPerAppend: 0 }, /replication stalls/],
    ['maxInflightAppends', { maxInflightAppends: 0 }, /never sent an entry/],
    ['maxInflightAppends', { maxInflightAppends: -4 }, undefined],
    ['checkQuorum', { checkQuorum: 'no' }, undefined],
    ['noopOnElection', { noopOnElection: 0 }, undefined],
    ['random', { random: undefined }, undefined],
  ] as const)('%s: %j', async (option, extra, message) => {
    const { options: opts, loads } = options(extra);
    let thrown: unknown;
    await RaftNode.create(opts).then(
      (node) => node.kill(),
      (err: unknown) => {
        thrown = err;
      },
    );
    expectConfigError(
      () => {
        if (thrown !== undefined) throw thrown;
      },
      option,
      message,
    );
    expect(loads).toEqual([]);
  });

  it('the defaults work (and the persister is loaded once)', async () => {
    const { options: opts, loads } = options({});
    const node = await RaftNode.create(opts);
    expect(loads).toEqual([1]);
    await node.close();
  });
});

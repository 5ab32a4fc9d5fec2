/**
 * The snapshot rule, driven by hand: a snapshot at most once per batch of applied messages,
 * only once the Raft state has reached maxraftstate, never at an index already snapshotted,
 * and never at all with -1.
 */
import type { RaftNode } from '@flotilla/raft';
import { describe, expect, it } from 'vitest';
import { Applier } from '../src/applier.js';
import { commandEntry } from '../src/entry.js';
import type { StateMachine } from '../src/index.js';
import { Snapshotter } from '../src/snapshotter.js';
import { KvMachine } from './support/kv-machine.js';

function setup(maxraftstate: number) {
  const persister = { size: 0, raftStateSize: () => persister.size };
  const applier = new Applier(
    new KvMachine() as unknown as StateMachine<unknown, unknown, unknown>,
  );
  const taken: number[] = [];
  const node = { killed: false, snapshot: (index: number) => taken.push(index) };
  const snapshotter = new Snapshotter(maxraftstate, persister, applier, (err) => {
    throw err;
  });
  snapshotter.attach(node as unknown as RaftNode);
  let index = 0;
  /** One batch of `n` applied commands. */
  const batch = async (n: number) => {
    for (let i = 0; i < n; i++) {
      index++;
      applier.apply({
        type: 'command',
        index,
        term: 1,
        command: commandEntry({ type: 'put', key: 'k', value: String(index) }, undefined),
      });
      snapshotter.afterApply();
    }
    await Promise.resolve();
  };
  return { persister, taken, batch, snapshotter, node };
}

describe('Snapshotter', () => {
  it('snapshots once per batch, at its last index, once the Raft state reaches maxraftstate', async () => {
    const { persister, taken, batch, snapshotter } = setup(1000);
    persister.size = 999;
    await batch(5);
    expect(taken).toEqual([]);
    persister.size = 1000;
    await batch(5);
    expect(taken).toEqual([10]);
    await batch(3);
    expect(taken).toEqual([10, 13]);
    expect(snapshotter.taken).toBe(2);
  });

  it('never snapshots twice at one index, nor with maxraftstate -1, nor once the node is killed', async () => {
    const big = setup(1000);
    big.persister.size = 5000;
    await big.batch(1);
    big.snapshotter.afterApply();
    await Promise.resolve();
    expect(big.taken).toEqual([1]);
    big.node.killed = true;
    await big.batch(1);
    expect(big.taken).toEqual([1]);

    const never = setup(-1);
    never.persister.size = Number.MAX_SAFE_INTEGER;
    await never.batch(10);
    expect(never.taken).toEqual([]);
  });

  it('counts a restored snapshot as taken at its index', async () => {
    const { persister, taken, batch, snapshotter } = setup(0);
    persister.size = 10;
    snapshotter.afterApply(5);
    await Promise.resolve();
    expect(taken).toEqual([]);
    await batch(6);
    expect(taken).toEqual([6]);
  });
});

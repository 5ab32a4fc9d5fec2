/**
 * `custodyStep` and `checkCustody` by example: each kind of move a configuration causes, the
 * configuration number a handed-off shard is named by, and each way custody can be broken.
 * (custody.property.test.ts checks them under any sequence of configurations.)
 */
import { NSHARDS } from '@flotilla/shardctrler';
import { describe, expect, it } from 'vitest';
import {
  type Custody,
  checkCustody,
  custodyStep,
  type Holder,
  initialCustody,
} from '../src/custody.js';

describe('custodyStep and checkCustody, by example', () => {
  const cfg = (num: number, shards: number[], gids: number[]) => ({
    num,
    shards: [...shards, ...new Array<number>(NSHARDS - shards.length).fill(shards.at(-1) ?? 0)],
    groups: Object.fromEntries(gids.map((g) => [String(g), [`s${g}`]])),
  });
  it('creates, freezes, thaws and transfers, and names the config that took a shard', () => {
    const c1 = cfg(1, [1, 1], [1]);
    const c2 = cfg(2, [0, 0], []);
    const c3 = cfg(3, [1, 2], [1, 2]);
    const s1 = custodyStep(initialCustody(), c1);
    expect(s1.moves[0]).toEqual({ kind: 'create', gid: 1 });
    const s2 = custodyStep(s1.custody, c2);
    expect(s2.moves[0]).toEqual({ kind: 'freeze', gid: 1, handoff: 2 });
    expect(s2.custody[0]).toEqual({ gid: 1, servers: ['s1'], handoff: 2 });
    const s3 = custodyStep(s2.custody, c3);
    expect(s3.moves[0]).toEqual({ kind: 'thaw', gid: 1 });
    const from = { gid: 1, servers: ['s1'], handoff: 2 };
    expect(s3.moves[1]).toEqual({ kind: 'transfer', from, to: 2, freezes: false });
    const s4 = custodyStep(s3.custody, cfg(4, [2, 2], [2]));
    const taken = { gid: 1, servers: ['s1'], handoff: 4 };
    expect(s4.moves[0]).toEqual({ kind: 'transfer', from: taken, to: 2, freezes: true });
    expect(s4.moves[1]).toEqual({ kind: 'stay' });
    expect(s4.custody[1]).toEqual({ gid: 2, servers: ['s2'] });
  });
  it('checkCustody throws for an owned shard held elsewhere or frozen, and a lost unowned one', () => {
    const c = { num: 5, shards: [1, 0, 1, 1, 1, 1, 1, 1, 1, 1], groups: { '1': ['s1'] } };
    const held = { gid: 1, servers: ['s1'] };
    const frozen = { ...held, handoff: 3 };
    const custody = (s0?: Holder, s1?: Holder): Custody => [s0, s1, ...new Array(8).fill(held)];
    expect(() => checkCustody(custody(held, frozen), c)).not.toThrow();
    expect(() => checkCustody(custody(held, undefined), c)).not.toThrow(); // never owned
    expect(() => checkCustody(custody({ gid: 2, servers: [] }, frozen), c)).toThrow(/shard 0/);
    expect(() => checkCustody(custody(frozen, frozen), c)).toThrow(/shard 0/);
    expect(() => checkCustody(custody(undefined, frozen), c)).toThrow(/shard 0/);
    expect(() => checkCustody(custody(held, held), c)).toThrow(/shard 1/);
  });
});

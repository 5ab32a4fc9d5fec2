/**
 * Property tests of the balancing rule (`rebalance`) and of the configuration history
 * (`ShardCtrlerMachine`) under any sequence of Join/Leave/Move: balance, no shard on gid 0 or a
 * departed group, the least movement any balanced assignment allows (checked against a brute
 * force), and the same history on every replica.
 */
import { decode, encode } from '@flotilla/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Config,
  type CtrlerOp,
  gidsOf,
  NSHARDS,
  rebalance,
  ShardCtrlerMachine,
} from '../src/index.js';

/** Gids drawn from a small pool, so Joins collide with present groups and Leaves hit them. */
const gidArb = fc.integer({ min: 1, max: 14 });
const shardsArb = fc.array(fc.integer({ min: 0, max: 16 }), {
  minLength: NSHARDS,
  maxLength: NSHARDS,
});
const gidSetArb = fc.uniqueArray(gidArb, { maxLength: 13 });

function counts(shards: readonly number[], gids: readonly number[]): Map<number, number> {
  const map = new Map<number, number>(gids.map((g) => [g, 0]));
  for (const g of shards) if (map.has(g)) map.set(g, (map.get(g) as number) + 1);
  return map;
}

function moved(before: readonly number[], after: readonly number[]): number {
  return before.filter((g, s) => after[s] !== g).length;
}

/** k-subsets of `items` (small n only). */
function* subsets<T>(items: readonly T[], k: number, from = 0): Generator<T[]> {
  if (k === 0) {
    yield [];
    return;
  }
  for (let i = from; i <= items.length - k; i++) {
    for (const rest of subsets(items, k - 1, i + 1)) yield [items[i] as T, ...rest];
  }
}

/**
 * The fewest shards any balanced assignment of `shards` onto `gids` must move, by brute force
 * over which groups get the larger count: N − max over those choices of Σ min(owned, target).
 */
function leastMoves(shards: readonly number[], gids: readonly number[]): number {
  const n = gids.length;
  if (n === 0) return shards.filter((g) => g !== 0).length;
  const base = Math.floor(shards.length / n);
  const extra = shards.length % n;
  const owned = counts(shards, gids);
  let bestKept = 0;
  for (const larger of subsets(gids, extra)) {
    let kept = 0;
    for (const g of gids)
      kept += Math.min(owned.get(g) as number, base + (larger.includes(g) ? 1 : 0));
    bestKept = Math.max(bestKept, kept);
  }
  return shards.length - bestKept;
}

/** Balanced onto `gids` (or all on gid 0 when there are none), nothing on another gid. */
function expectBalanced(shards: readonly number[], gids: readonly number[]): void {
  expect(shards).toHaveLength(NSHARDS);
  if (gids.length === 0) {
    expect(shards.every((g) => g === 0)).toBe(true);
    return;
  }
  for (const g of shards) expect(gids).toContain(g);
  const c = [...counts(shards, gids).values()];
  expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
}

describe('rebalance', () => {
  it('balances onto exactly the given groups, never gid 0 or a gid not given', () => {
    fc.assert(
      fc.property(shardsArb, gidSetArb, (shards, gids) => {
        expectBalanced(rebalance(shards, gids), gids);
      }),
    );
  });

  it('moves exactly as few shards as any balanced assignment must (brute force)', () => {
    fc.assert(
      fc.property(shardsArb, gidSetArb, (shards, gids) => {
        expect(moved(shards, rebalance(shards, gids))).toBe(leastMoves(shards, gids));
      }),
    );
  });

  it('moves only shards on a gid not given or on a group over its target; no group both gains and loses', () => {
    fc.assert(
      fc.property(shardsArb, gidSetArb, (shards, gids) => {
        const next = rebalance(shards, gids);
        const target = Math.ceil(NSHARDS / Math.max(1, gids.length));
        const before = counts(shards, gids);
        for (const g of gids) {
          const lost = shards.some((o, s) => o === g && next[s] !== g);
          const gained = next.some((o, s) => o === g && shards[s] !== g);
          expect(lost && gained).toBe(false);
          if (lost) expect(before.get(g) as number).toBeGreaterThanOrEqual(target);
        }
      }),
    );
  });

  it('is deterministic: the order and repeats of gids do not matter, and the input is not changed', () => {
    fc.assert(
      fc.property(shardsArb, gidSetArb, fc.infiniteStream(fc.nat()), (shards, gids, noise) => {
        const copy = [...shards];
        const expected = rebalance(shards, gids);
        const it = noise[Symbol.iterator]();
        const shuffled = [...gids, ...gids.slice(0, 2)]
          .map((g) => ({ g, k: it.next().value as number }))
          .sort((a, b) => a.k - b.k)
          .map(({ g }) => g);
        expect(rebalance(shards, shuffled)).toEqual(expected);
        expect(rebalance(shards, [0, ...gids])).toEqual(expected);
        expect(shards).toEqual(copy);
      }),
    );
  });

  it('from a balanced assignment, moves shards only to joining groups and only off leaving ones', () => {
    fc.assert(
      fc.property(shardsArb, gidSetArb, gidSetArb, (start, before, other) => {
        const balanced = rebalance(start, before);
        const joined = [...new Set([...before, ...other])];
        const afterJoin = rebalance(balanced, joined);
        balanced.forEach((g, s) => {
          if (afterJoin[s] !== g) expect(before).not.toContain(afterJoin[s]);
        });
        const remaining = before.filter((g) => !other.includes(g));
        const afterLeave = rebalance(balanced, remaining);
        balanced.forEach((g, s) => {
          if (afterLeave[s] !== g) expect(remaining).not.toContain(g);
        });
      }),
    );
  });

  it('keeps a balanced assignment as it is', () => {
    fc.assert(
      fc.property(shardsArb, gidSetArb, (shards, gids) => {
        const once = rebalance(shards, gids);
        expect(rebalance(once, gids)).toEqual(once);
      }),
    );
  });
});

const opArb: fc.Arbitrary<CtrlerOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.uniqueArray(gidArb, { minLength: 1, maxLength: 4 }).map((gids) => ({
      type: 'Join' as const,
      groups: gids.map((gid) => [gid, [`s${gid}a`, `s${gid}b`]] as const),
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .uniqueArray(gidArb, { minLength: 1, maxLength: 3 })
      .map((gids) => ({ type: 'Leave' as const, gids })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ shard: fc.integer({ min: 0, max: NSHARDS - 1 }), gid: gidArb })
      .map(({ shard, gid }) => ({ type: 'Move' as const, shard, gid })),
  },
);

const history = (m: ShardCtrlerMachine): Config[] =>
  Array.from({ length: m.latestNum + 1 }, (_, num) => m.query(num));

describe('ShardCtrlerMachine under any sequence of Join/Leave/Move', () => {
  it('keeps every config valid, balances after each Join/Leave with the least movement, and refuses invalid ops without a new config', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const m = new ShardCtrlerMachine();
        for (const op of ops) {
          const before = m.query(-1);
          const result = m.apply(op);
          const after = m.query(-1);
          if (!result.ok) {
            expect(after).toEqual(before);
            continue;
          }
          expect(result.num).toBe(before.num + 1);
          expect(after.num).toBe(result.num);
          const gids = gidsOf(after);
          if (gids.length === 0) expect(after.shards.every((g) => g === 0)).toBe(true);
          else for (const g of after.shards) expect(gids).toContain(g);
          if (op.type === 'Move') {
            expect(after.shards[op.shard]).toBe(op.gid);
            expect(moved(before.shards, after.shards)).toBeLessThanOrEqual(1);
          } else {
            expectBalanced(after.shards, gids);
            expect(moved(before.shards, after.shards)).toBe(leastMoves(before.shards, gids));
          }
        }
      }),
    );
  });

  it('refuses a Join of a present gid, a Leave of an absent one and a Move to an absent one', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), (ops) => {
        const m = new ShardCtrlerMachine();
        for (const op of ops) {
          const present = new Set(gidsOf(m.query(-1)));
          const result = m.apply(op);
          const valid =
            op.type === 'Join'
              ? op.groups.every(([g]) => !present.has(g))
              : op.type === 'Leave'
                ? op.gids.every((g) => present.has(g))
                : present.has(op.gid);
          expect(result.ok).toBe(valid);
        }
      }),
    );
  });

  it('gives the same history on every replica: ops through the log codec, any Join order, a snapshot restored midway', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), fc.nat(), (ops, cut) => {
        const a = new ShardCtrlerMachine();
        const resultsA = ops.map((op) => a.apply(op));

        let b = new ShardCtrlerMachine();
        const at = ops.length === 0 ? 0 : cut % (ops.length + 1);
        const resultsB = ops.map((op, i) => {
          if (i === at) {
            const restored = new ShardCtrlerMachine();
            restored.restore(decode(encode(b.snapshot())) as ReturnType<typeof b.snapshot>);
            b = restored;
          }
          // The same entry as another replica decodes it, its groups in reverse order.
          const entry = decode(encode(op)) as CtrlerOp;
          const reordered =
            entry.type === 'Join' ? { ...entry, groups: [...entry.groups].reverse() } : entry;
          return b.apply(reordered);
        });
        expect(resultsB).toEqual(resultsA);
        const ha = history(a);
        const hb = history(b);
        expect(hb).toEqual(ha);
        // Equal down to the key order of `groups`, so equal bytes in a snapshot.
        expect(JSON.stringify(hb)).toBe(JSON.stringify(ha));
      }),
    );
  });
});

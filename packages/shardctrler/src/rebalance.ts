import { INVALID_GID } from './config.js';

/**
 * Assigns every shard to one of `gids`, balanced, moving as few shards as possible. Pure and
 * deterministic: the result depends on the values of `shards` and the set of `gids` alone
 * (not their order, not any map's iteration order), so every replica computes the same one.
 *
 * With g = the distinct gids (0 is never one) and N = `shards.length`:
 * - g = 0: every shard goes to gid 0.
 * - Otherwise each group ends with ⌊N/g⌋ or ⌊N/g⌋+1 shards (exactly N mod g groups with the
 *   larger count; with g > N, N groups hold one shard and the rest none), and no shard stays on
 *   a gid outside `gids`.
 * - Minimal movement: a shard moves only if its owner is not in `gids` or owns more than its
 *   target. The larger targets go to the groups that own the most shards now (ties: lower gid
 *   first), which makes the number of moved shards the least any balanced assignment needs.
 * - Tie-breaks: a group over its target gives up its highest-numbered shards; the shards to
 *   place are handed out in ascending shard order to the groups under their target, in
 *   ascending gid order. A group never both gains and loses shards.
 */
export function rebalance(shards: readonly number[], gids: readonly number[]): number[] {
  const sorted = [...new Set(gids)].filter((gid) => gid !== INVALID_GID).sort((a, b) => a - b);
  if (sorted.length === 0) return shards.map(() => INVALID_GID);

  const owned = new Map<number, number[]>(sorted.map((gid) => [gid, []]));
  const free: number[] = [];
  shards.forEach((gid, shard) => {
    const list = owned.get(gid);
    if (list === undefined) free.push(shard);
    else list.push(shard);
  });

  const base = Math.floor(shards.length / sorted.length);
  let extra = shards.length % sorted.length;
  const byCount = [...sorted].sort(
    (a, b) => (owned.get(b)?.length ?? 0) - (owned.get(a)?.length ?? 0) || a - b,
  );
  const target = new Map<number, number>();
  for (const gid of byCount) {
    target.set(gid, base + (extra > 0 ? 1 : 0));
    if (extra > 0) extra--;
  }

  for (const gid of sorted) {
    const list = owned.get(gid) as number[];
    const keep = target.get(gid) as number;
    if (list.length > keep) free.push(...list.splice(keep));
  }
  free.sort((a, b) => a - b);

  const next = [...shards];
  let i = 0;
  for (const gid of sorted) {
    const need = (target.get(gid) as number) - (owned.get(gid) as number[]).length;
    for (let k = 0; k < need; k++) next[free[i++] as number] = gid;
  }
  return next;
}

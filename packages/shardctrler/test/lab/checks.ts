import { LabError } from '@flotilla/labkit';
import { type Clerk, type Config, gidsOf } from '../../src/index.js';

/** The lab's `check(t, groups, ck)`: the latest config has exactly `groups`, all shards on them, balanced. */
export async function check(groups: readonly number[], ck: Clerk): Promise<void> {
  const c = await ck.query(-1);
  const present = gidsOf(c);
  if (present.length !== groups.length) {
    throw new LabError(`wanted ${groups.length} groups, got ${present.length}`);
  }
  for (const g of groups) {
    if (!present.includes(g)) throw new LabError(`missing group ${g}`);
  }
  if (groups.length > 0) {
    c.shards.forEach((g, s) => {
      if (!present.includes(g)) throw new LabError(`shard ${s} -> invalid group ${g}`);
    });
  }
  const counts = new Map<number, number>();
  for (const g of c.shards) counts.set(g, (counts.get(g) ?? 0) + 1);
  let min = 257;
  let max = 0;
  for (const g of present) {
    const n = counts.get(g) ?? 0;
    if (n > max) max = n;
    if (n < min) min = n;
  }
  if (max > min + 1) throw new LabError(`max ${max} too much larger than min ${min}`);
}

/** The lab's `check_same_config(t, c1, c2)`. */
export function checkSameConfig(c1: Config, c2: Config): void {
  if (c1.num !== c2.num) throw new LabError(`Num wrong: ${c1.num} vs ${c2.num}`);
  if (c1.shards.join() !== c2.shards.join()) {
    throw new LabError(`Shards wrong: [${c1.shards}] vs [${c2.shards}]`);
  }
  const g1 = gidsOf(c1);
  if (g1.length !== gidsOf(c2).length) throw new LabError('number of Groups is wrong');
  for (const gid of g1) {
    const sa = c1.groups[gid] as readonly string[];
    const sa1 = c2.groups[gid];
    if (sa1 === undefined || sa1.length !== sa.length) throw new LabError('len(Groups) wrong');
    if (sa.some((s, j) => s !== sa1[j])) throw new LabError('Groups wrong');
  }
}

/** The servers of `gid` in `config` are exactly `servers`, in order. */
export function checkServers(config: Config, gid: number, servers: readonly string[]): void {
  const sa = config.groups[gid];
  if (sa === undefined || sa.join() !== servers.join()) {
    throw new LabError(`wrong servers for gid ${gid}: ${JSON.stringify(sa)}`);
  }
}

/**
 * The minimal-transfer check after Joins: a shard an original group owns in `after` was
 * already its in `before`. The lab loops over gids 1…npara, which (its groups being
 * 100…190 or 1000…1009) are not in the config; here the original groups are `before`'s own,
 * which makes the check bite.
 */
export function checkNoShuffleAfterJoin(before: Config, after: Config): void {
  for (const gid of gidsOf(before)) {
    after.shards.forEach((g, shard) => {
      if (g === gid && before.shards[shard] !== gid) {
        throw new LabError(`non-minimal transfer after Join()s: shard ${shard} came to ${gid}`);
      }
    });
  }
}

/** After the new groups left again: every shard an original group owned in `joined` is still its. */
export function checkNoShuffleAfterLeave(original: Config, joined: Config, after: Config): void {
  for (const gid of gidsOf(original)) {
    joined.shards.forEach((g, shard) => {
      if (g === gid && after.shards[shard] !== gid) {
        throw new LabError(`non-minimal transfer after Leave()s: shard ${shard} left ${gid}`);
      }
    });
  }
}

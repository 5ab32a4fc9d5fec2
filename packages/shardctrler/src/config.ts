/** The number of shards (the lab's `NShards`). */
export const NSHARDS = 10;

/** The gid no group may have: a shard on it is unassigned (every shard of config 0). */
export const INVALID_GID = 0;

/**
 * A configuration (the lab's `Config`): its number, the replica group serving each of the
 * `NSHARDS` shards, and each group's servers. `groups` is keyed by the gid in decimal (a
 * msgpack map's keys are strings); `gidsOf(config)` lists them as numbers, ascending.
 *
 * Invariants of every configuration the service makes: `shards.length === NSHARDS`; with no
 * groups every shard is on gid 0; with groups, every shard is on one of them.
 */
export interface Config {
  readonly num: number;
  readonly shards: readonly number[];
  readonly groups: Readonly<Record<string, readonly string[]>>;
}

/** Config 0: no groups, every shard on gid 0. */
export function initialConfig(): Config {
  return { num: 0, shards: new Array<number>(NSHARDS).fill(INVALID_GID), groups: {} };
}

/** The gids of `config`'s groups, ascending (numerically). */
export function gidsOf(config: Config): number[] {
  return Object.keys(config.groups)
    .map(Number)
    .sort((a, b) => a - b);
}

/** A deep copy (configs handed out never share arrays with the machine's history). */
export function copyConfig(config: Config): Config {
  const groups: Record<string, readonly string[]> = {};
  for (const gid of gidsOf(config)) groups[gid] = [...(config.groups[gid] as readonly string[])];
  return { num: config.num, shards: [...config.shards], groups };
}

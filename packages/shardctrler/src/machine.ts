import type { StateMachine } from '@flotilla/rsm';
import { type Config, copyConfig, gidsOf, initialConfig } from './config.js';
import { rebalance } from './rebalance.js';
import {
  checkJoinAgainst,
  checkLeave,
  checkLeaveAgainst,
  checkMove,
  checkMoveAgainst,
  type GroupEntry,
  type Invalid,
  joinGroups,
} from './validate.js';

/**
 * What a Join, Leave or Move does, as the log carries it. A Join's groups are sorted by gid,
 * so equal requests are equal entries whatever order the caller's map had.
 */
export type CtrlerOp =
  | { readonly type: 'Join'; readonly groups: readonly GroupEntry[] }
  | { readonly type: 'Leave'; readonly gids: readonly number[] }
  | { readonly type: 'Move'; readonly shard: number; readonly gid: number };

/**
 * An op's answer: the number of the configuration it created, or why it was refused. A
 * refused op creates no configuration, on every replica alike.
 */
export type CtrlerResult =
  | { readonly ok: true; readonly num: number }
  | { readonly ok: false; readonly invalid: Invalid };

/** The snapshot: every configuration, by number. */
export type CtrlerSnapshot = readonly Config[];

/**
 * The history of configurations every replica applies (the lab's `ShardCtrler.configs`).
 * `apply` depends on the history and the op alone, and checks the op again (a replica cannot
 * trust that a server checked it: an entry in the log is whatever was proposed):
 * - Join: refused if a gid is already in the latest configuration (two clerks racing to join
 *   it), else adds the groups and rebalances (`rebalance`);
 * - Leave: refused if a gid is not in the latest configuration, else removes the groups and
 *   rebalances their shards onto the rest (all to gid 0 when none is left);
 * - Move: refused if the gid is not in the latest configuration, else puts the shard on it,
 *   without rebalancing. A Move to the shard's current owner still makes a new configuration
 *   (as the lab's).
 */
export class ShardCtrlerMachine implements StateMachine<CtrlerOp, CtrlerResult, CtrlerSnapshot> {
  #configs: Config[] = [initialConfig()];

  /** The latest configuration's number. */
  get latestNum(): number {
    return this.#configs.length - 1;
  }

  /** Configuration `num` (a copy), or the latest for -1 or any number past the latest. */
  query(num: number): Config {
    const config =
      num < 0 || num >= this.#configs.length ? this.#latest() : (this.#configs[num] as Config);
    return copyConfig(config);
  }

  apply(op: CtrlerOp): CtrlerResult {
    const latest = this.#latest();
    const invalid = this.#check(latest, op);
    if (invalid !== undefined) return { ok: false, invalid };
    const groups: Record<string, readonly string[]> = { ...latest.groups };
    let shards: number[];
    switch (op.type) {
      case 'Join':
        for (const [gid, servers] of op.groups) groups[gid] = [...servers];
        shards = rebalance(latest.shards, gidsOf({ ...latest, groups }));
        break;
      case 'Leave':
        for (const gid of op.gids) delete groups[gid];
        shards = rebalance(latest.shards, gidsOf({ ...latest, groups }));
        break;
      case 'Move':
        shards = [...latest.shards];
        shards[op.shard] = op.gid;
        break;
    }
    const num = this.#configs.length;
    this.#configs.push(copyConfig({ num, shards, groups }));
    return { ok: true, num };
  }

  snapshot(): CtrlerSnapshot {
    return this.#configs.map(copyConfig);
  }

  restore(snapshot: CtrlerSnapshot): void {
    this.#configs = snapshot.map(copyConfig);
  }

  #latest(): Config {
    return this.#configs[this.#configs.length - 1] as Config;
  }

  #check(latest: Config, op: CtrlerOp): Invalid | undefined {
    switch (op.type) {
      case 'Join': {
        const gids = op.groups.map(([gid]) => gid);
        const twice = gids.find((gid, i) => gids.indexOf(gid) !== i);
        if (twice !== undefined) {
          return { reason: 'DUPLICATE_GID', message: `gid ${twice} is listed twice`, gid: twice };
        }
        const servers = Object.fromEntries(op.groups.map(([gid, list]) => [String(gid), list]));
        const joined = joinGroups(servers);
        if ('invalid' in joined) return joined.invalid;
        return checkJoinAgainst(latest, joined.groups);
      }
      case 'Leave':
        return checkLeave(op.gids) ?? checkLeaveAgainst(latest, op.gids);
      case 'Move':
        return checkMove(op.shard, op.gid) ?? checkMoveAgainst(latest, op.gid);
    }
  }
}

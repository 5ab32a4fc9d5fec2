import { type Config, NSHARDS } from './config.js';
import { InvalidArgumentError, type InvalidReason } from './errors.js';

/**
 * Why an op is refused, as plain data: what the state machine answers (and its duplicate
 * table keeps), what a server's reply carries, and what the clerk turns into an
 * `InvalidArgumentError`.
 */
export interface Invalid {
  readonly reason: InvalidReason;
  readonly message: string;
  readonly gid?: number;
  readonly shard?: number;
}

/** A group to join: its gid and its servers, as the log carries it (sorted by gid). */
export type GroupEntry = readonly [gid: number, servers: readonly string[]];

export function toError(invalid: Invalid): InvalidArgumentError {
  return new InvalidArgumentError(invalid.reason, invalid.message, {
    ...(invalid.gid === undefined ? {} : { gid: invalid.gid }),
    ...(invalid.shard === undefined ? {} : { shard: invalid.shard }),
  });
}

function isGid(gid: unknown): gid is number {
  return Number.isSafeInteger(gid) && (gid as number) >= 1;
}

function badGid(gid: unknown): Invalid {
  const details = typeof gid === 'number' ? { gid } : {};
  return { reason: 'BAD_GID', message: `gid ${String(gid)} must be an integer ≥ 1`, ...details };
}

/**
 * A Join's groups from the lab's `{ gid: servers }` map (keys in decimal), sorted by gid, or
 * why they cannot join. Checks what needs no configuration: at least one group, each gid an
 * integer ≥ 1 written canonically ("7", not "07"), each group a non-empty list of non-empty
 * server names.
 */
export function joinGroups(
  servers: Readonly<Record<string, unknown>>,
): { readonly groups: GroupEntry[] } | { readonly invalid: Invalid } {
  const keys = Object.keys(servers);
  if (keys.length === 0) {
    return { invalid: { reason: 'BAD_SERVERS', message: 'Join needs at least one group' } };
  }
  const groups: GroupEntry[] = [];
  for (const key of keys) {
    const gid = Number(key);
    if (!isGid(gid) || String(gid) !== key) return { invalid: badGid(isGid(gid) ? key : gid) };
    const list = servers[key];
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      !list.every((s) => typeof s === 'string' && s !== '')
    ) {
      return {
        invalid: {
          reason: 'BAD_SERVERS',
          message: `gid ${gid} needs a non-empty list of non-empty server names`,
          gid,
        },
      };
    }
    groups.push([gid, [...(list as string[])]]);
  }
  groups.sort((a, b) => a[0] - b[0]);
  return { groups };
}

/** Why a Leave of `gids` cannot be, before any configuration is consulted. */
export function checkLeave(gids: readonly unknown[]): Invalid | undefined {
  if (gids.length === 0) return { reason: 'BAD_SERVERS', message: 'Leave needs at least one gid' };
  const seen = new Set<number>();
  for (const gid of gids) {
    if (!isGid(gid)) return badGid(gid);
    if (seen.has(gid)) {
      return { reason: 'DUPLICATE_GID', message: `gid ${gid} is listed twice`, gid };
    }
    seen.add(gid);
  }
  return undefined;
}

/** Why a Move of `shard` to `gid` cannot be, before any configuration is consulted. */
export function checkMove(shard: unknown, gid: unknown): Invalid | undefined {
  if (!(Number.isSafeInteger(shard) && (shard as number) >= 0 && (shard as number) < NSHARDS)) {
    const details = typeof shard === 'number' ? { shard } : {};
    return {
      reason: 'BAD_SHARD',
      message: `shard ${String(shard)} is not in 0…${NSHARDS - 1}`,
      ...details,
    };
  }
  return isGid(gid) ? undefined : badGid(gid);
}

/** Why `Query(num)` cannot be: `num` must be -1 (the latest) or a configuration number ≥ 0. */
export function checkQuery(num: unknown): Invalid | undefined {
  if (Number.isSafeInteger(num) && (num as number) >= -1) return undefined;
  return {
    reason: 'BAD_CONFIG_NUM',
    message: `Query wants -1 or a configuration number ≥ 0, got ${String(num)}`,
  };
}

/** The checks that depend on the latest configuration, made when the op is applied. */
export function checkJoinAgainst(
  latest: Config,
  groups: readonly GroupEntry[],
): Invalid | undefined {
  for (const [gid] of groups) {
    if (Object.hasOwn(latest.groups, String(gid))) {
      return {
        reason: 'GID_ALREADY_JOINED',
        message: `gid ${gid} is already in configuration ${latest.num}`,
        gid,
      };
    }
  }
  return undefined;
}

export function checkLeaveAgainst(latest: Config, gids: readonly number[]): Invalid | undefined {
  for (const gid of gids) {
    if (!Object.hasOwn(latest.groups, String(gid))) {
      return {
        reason: 'UNKNOWN_GID',
        message: `gid ${gid} is not in configuration ${latest.num}`,
        gid,
      };
    }
  }
  return undefined;
}

export function checkMoveAgainst(latest: Config, gid: number): Invalid | undefined {
  if (Object.hasOwn(latest.groups, String(gid))) return undefined;
  return {
    reason: 'MOVE_TO_UNKNOWN_GID',
    message: `gid ${gid} is not in configuration ${latest.num}`,
    gid,
  };
}

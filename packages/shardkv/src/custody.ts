import { type Config, INVALID_GID, NSHARDS } from '@flotilla/shardctrler';

/**
 * The group that holds a shard's data, as every group reckons it from the configurations
 * alone: `gid` with its `servers` as of then. `handoff` is set once a configuration took the
 * shard from `gid` while nobody else owns it yet (it moved to gid 0, all groups having left):
 * the data waits there, unchanging, for the next owner.
 */
export interface Holder {
  readonly gid: number;
  readonly servers: readonly string[];
  readonly handoff?: number;
}

/** Where a new owner pulls a shard from: the holder and the configuration that took it from it. */
export interface Source {
  readonly gid: number;
  readonly servers: readonly string[];
  readonly handoff: number;
}

/** What one configuration does to one shard. */
export type ShardMove =
  | { readonly kind: 'stay' }
  /** Its first owner ever: it starts empty there. */
  | { readonly kind: 'create'; readonly gid: number }
  /** Its holder lost it and no group owns it (gid 0): the holder keeps it, unchanging. */
  | { readonly kind: 'freeze'; readonly gid: number; readonly handoff: number }
  /** Owned again by the group that still holds it from before: nothing moves. */
  | { readonly kind: 'thaw'; readonly gid: number }
  /**
   * A new owner pulls it from its holder; `freezes`: this configuration is the one that took
   * it from the holder (otherwise it was frozen already).
   */
  | {
      readonly kind: 'transfer';
      readonly from: Source;
      readonly to: number;
      readonly freezes: boolean;
    };

export type Custody = readonly (Holder | undefined)[];

/** Before configuration 1: no shard has ever had an owner. */
export function initialCustody(): Custody {
  return new Array<Holder | undefined>(NSHARDS).fill(undefined);
}

/**
 * The step every group takes for configuration `next` (the one after the configuration
 * `custody` was computed for): each shard's move and who holds it afterwards. Pure and
 * deterministic, so all groups agree on every shard's holder at every configuration number
 * without talking to each other. The holder of a shard whose owner changes is the previous
 * holder until the new owner has pulled it; the new owner is recorded at once, because it
 * cannot move past `next` before it has.
 *
 * Invariants afterwards (`checkCustody`): a shard owned in `next` is held by its owner, not
 * frozen; a shard on gid 0 is frozen at its holder, or has never had an owner.
 */
export function custodyStep(
  custody: Custody,
  next: Config,
): { readonly custody: Custody; readonly moves: readonly ShardMove[] } {
  const holders: (Holder | undefined)[] = [];
  const moves: ShardMove[] = [];
  for (let shard = 0; shard < NSHARDS; shard++) {
    const holder = custody[shard];
    const owner = next.shards[shard] as number;
    const ownerHolds = (): Holder => ({ gid: owner, servers: serversOf(next, owner) });
    if (holder === undefined) {
      holders.push(owner === INVALID_GID ? undefined : ownerHolds());
      moves.push(owner === INVALID_GID ? { kind: 'stay' } : { kind: 'create', gid: owner });
    } else if (owner === holder.gid) {
      holders.push(ownerHolds());
      moves.push(holder.handoff === undefined ? { kind: 'stay' } : { kind: 'thaw', gid: owner });
    } else if (owner === INVALID_GID) {
      const handoff = holder.handoff ?? next.num;
      holders.push({ ...holder, handoff });
      moves.push(
        holder.handoff === undefined
          ? { kind: 'freeze', gid: holder.gid, handoff }
          : { kind: 'stay' },
      );
    } else {
      const from = {
        gid: holder.gid,
        servers: holder.servers,
        handoff: holder.handoff ?? next.num,
      };
      holders.push(ownerHolds());
      moves.push({ kind: 'transfer', from, to: owner, freezes: holder.handoff === undefined });
    }
  }
  checkCustody(holders, next);
  return { custody: holders, moves };
}

/** Throws if `custody` breaks the invariants of `custodyStep` for `config`: a bug, never input. */
export function checkCustody(custody: Custody, config: Config): void {
  for (let shard = 0; shard < NSHARDS; shard++) {
    const holder = custody[shard];
    const owner = config.shards[shard];
    const ok =
      owner === INVALID_GID
        ? holder === undefined || holder.handoff !== undefined
        : holder !== undefined && holder.gid === owner && holder.handoff === undefined;
    if (!ok) {
      throw new Error(
        `custody of shard ${shard} broken at config ${config.num}: ${JSON.stringify(holder)}`,
      );
    }
  }
}

function serversOf(config: Config, gid: number): readonly string[] {
  return [...(config.groups[String(gid)] ?? [])];
}

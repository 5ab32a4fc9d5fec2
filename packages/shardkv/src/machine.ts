import type { Sessions } from '@flotilla/rsm';
import { type Config, initialConfig, NSHARDS } from '@flotilla/shardctrler';
import { type Custody, custodyStep, initialCustody, type Source } from './custody.js';
import { key2shard } from './key2shard.js';
import type { SessionRow } from './protocol.js';
import { Shard, type ShardPage, type ShardSnapshot, type WriteResult } from './shard.js';

/**
 * What a group's log holds. Clerks' writes carry their session (checked against the key's
 * shard's duplicate table); the rest are the group's own reconfiguration steps, proposed by
 * its leader and applied in log order, so every replica takes each step at the same index.
 */
export type ShardKvOp =
  | { readonly type: 'Put' | 'Append'; readonly key: string; readonly value: string }
  /** Move to `config`, the next configuration after the current one. */
  | { readonly type: 'Config'; readonly config: Config }
  /** One page of a shard being pulled, at `offset` of the items (keys, then sessions). */
  | {
      readonly type: 'Pulled';
      readonly shard: number;
      readonly handoff: number;
      readonly offset: number;
      readonly data: readonly (readonly [string, string])[];
      readonly sessions: readonly SessionRow[];
      readonly done: boolean;
    }
  /** The new holder has all of `shard` as handed off at `handoff`: delete this group's copy. */
  | { readonly type: 'Drop'; readonly shard: number; readonly handoff: number }
  /** The previous holder of `shard` has deleted its copy. */
  | { readonly type: 'Released'; readonly shard: number; readonly handoff: number };

/**
 * `OK` for a write applied (or an own step taken), `ErrWrongGroup` for a write of a shard this
 * group does not serve at that point of its log, `ignored` for an own step that no longer
 * applies (taken already, e.g. proposed twice across a leader change).
 */
export type ShardKvResult = WriteResult | 'ErrWrongGroup' | 'ignored';

export interface ShardKvSnapshot {
  readonly gid: number;
  readonly config: Config;
  readonly custody: Custody;
  readonly shards: readonly ShardSnapshot[];
}

/** A duplicate table for a write this group does not serve: nothing is checked or kept. */
const unserved: Sessions<ShardKvResult> = {
  check: () => ({ status: 'new' }),
  record: () => {},
};

/** What the Get of a key finds. */
export type GetOutcome =
  | { readonly err: 'OK'; readonly value: string }
  | { readonly err: 'ErrNoKey' }
  | { readonly err: 'ErrWrongGroup' };

/**
 * One replica group's state (the lab's `ShardKV` maps): its current configuration, every
 * shard's holder as all groups reckon it (`custody.ts`), and its own shards, each with its data
 * and duplicate table (`shard.ts`). Deterministic: a function of the ops applied alone.
 *
 * Invariants: the configuration moves one number at a time, and only when every shard is
 * settled (nothing being pulled, no previous holder left to tell, nothing handed off that a
 * group has yet to pull); a shard is served only when it is this group's in the current
 * configuration and all of it is here.
 */
export class ShardKvMachine {
  readonly gid: number;
  #config: Config = initialConfig();
  #custody: Custody = initialCustody();
  #shards: Shard[] = Array.from({ length: NSHARDS }, () => new Shard());

  constructor(gid: number) {
    this.gid = gid;
  }

  /** The configuration this group is in. */
  get config(): Config {
    return this.#config;
  }

  shard(shard: number): Shard {
    return this.#shards[shard] as Shard;
  }

  /** Whether the group may move to the next configuration (see the class invariants). */
  get settled(): boolean {
    return this.#shards.every((shard, i) => shard.settled(this.#config.shards[i] !== 0));
  }

  /** The shards being pulled, with where from and how far along. */
  pulls(): { shard: number; source: Source; offset: number }[] {
    const pulls = [];
    for (let i = 0; i < NSHARDS; i++) {
      const shard = this.shard(i);
      if (shard.status === 'pulling' && shard.source !== undefined) {
        pulls.push({ shard: i, source: shard.source, offset: shard.received });
      }
    }
    return pulls;
  }

  /** The shards whose previous holder still keeps a copy it may now delete. */
  releases(): { shard: number; source: Source }[] {
    const releases = [];
    for (let i = 0; i < NSHARDS; i++) {
      const shard = this.shard(i);
      if (shard.serves && shard.source !== undefined)
        releases.push({ shard: i, source: shard.source });
    }
    return releases;
  }

  get(key: string): GetOutcome {
    const shard = this.shard(key2shard(key));
    if (!shard.serves) return { err: 'ErrWrongGroup' };
    const value = shard.data.get(key);
    return value === undefined ? { err: 'ErrNoKey' } : { err: 'OK', value };
  }

  /** A page of `shard` as this group hands it off at `handoff`; undefined if it does not (yet). */
  page(shard: number, handoff: number, offset: number, maxBytes: number): ShardPage | undefined {
    return this.shard(shard).page(handoff, offset, maxBytes);
  }

  /** The key's shard's table if this group serves it; otherwise one that keeps nothing. */
  sessionsFor(op: ShardKvOp): Sessions<ShardKvResult> {
    if (op.type !== 'Put' && op.type !== 'Append') return unserved;
    const shard = this.shard(key2shard(op.key));
    return shard.serves ? shard.sessions : unserved;
  }

  apply(op: ShardKvOp): ShardKvResult {
    switch (op.type) {
      case 'Put':
      case 'Append':
        return this.#write(op.type, op.key, op.value);
      case 'Config':
        return this.#reconfigure(op.config);
      case 'Pulled':
        return this.shard(op.shard).receive(op.handoff, op.offset, op) ? 'OK' : 'ignored';
      case 'Drop':
        return this.shard(op.shard).drop(op.handoff) ? 'OK' : 'ignored';
      case 'Released':
        return this.shard(op.shard).released(op.handoff) ? 'OK' : 'ignored';
      default: {
        const unknown: never = op;
        throw new TypeError(`unknown op ${JSON.stringify(unknown)}`);
      }
    }
  }

  snapshot(): ShardKvSnapshot {
    return {
      gid: this.gid,
      config: this.#config,
      custody: this.#custody,
      shards: this.#shards.map((shard) => shard.toSnapshot()),
    };
  }

  restore(snapshot: ShardKvSnapshot): void {
    if (snapshot.gid !== this.gid) {
      throw new Error(`snapshot of group ${snapshot.gid} restored into group ${this.gid}`);
    }
    this.#config = snapshot.config;
    // msgpack drops undefined fields and turns absent holders into null.
    this.#custody = snapshot.custody.map((holder) => holder ?? undefined);
    this.#shards = snapshot.shards.map((shard) => Shard.fromSnapshot(shard));
  }

  #write(type: 'Put' | 'Append', key: string, value: string): ShardKvResult {
    const shard = this.shard(key2shard(key));
    if (!shard.serves) return 'ErrWrongGroup';
    shard.data.set(key, type === 'Put' ? value : (shard.data.get(key) ?? '') + value);
    return 'OK';
  }

  #reconfigure(next: Config): ShardKvResult {
    if (next.num !== this.#config.num + 1 || !this.settled) return 'ignored';
    const { custody, moves } = custodyStep(this.#custody, next);
    moves.forEach((move, i) => {
      const shard = this.shard(i);
      switch (move.kind) {
        case 'stay':
          break;
        case 'create':
          if (move.gid === this.gid) shard.create();
          break;
        case 'freeze':
          if (move.gid === this.gid) shard.lose(move.handoff);
          break;
        case 'thaw':
          if (move.gid === this.gid) shard.thaw();
          break;
        case 'transfer':
          if (move.from.gid === this.gid && move.freezes) shard.lose(move.from.handoff);
          if (move.to === this.gid) shard.gain(move.from);
          break;
        default: {
          const unknown: never = move;
          throw new TypeError(`unknown move ${JSON.stringify(unknown)}`);
        }
      }
    });
    this.#config = next;
    this.#custody = custody;
    return 'OK';
  }
}

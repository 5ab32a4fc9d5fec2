import type { RaftNode } from '@flotilla/raft';
import {
  ReplicatedStateMachine,
  type ReplicatedStateMachineOptions,
  RsmError,
  StaleRequestError,
} from '@flotilla/rsm';
import { Clerk as CtrlerClerk } from '@flotilla/shardctrler';
import {
  type ClientEnd,
  type Clock,
  drawClientId,
  type RpcServer,
  realClock,
  type ServiceMethods,
  validated,
} from '@flotilla/transport';
import { ShardKvConfigError } from './errors.js';
import { GroupEnds } from './group-ends.js';
import { key2shard } from './key2shard.js';
import { type KvLimits, kvLimits, oversize } from './limits.js';
import { ShardKvMachine } from './machine.js';
import {
  type DeleteShardArgs,
  type DeleteShardReply,
  ErrNoKey,
  ErrNotReady,
  ErrStale,
  ErrWrongGroup,
  ErrWrongLeader,
  type GetArgs,
  type GetReply,
  isDeleteShardArgs,
  isGetArgs,
  isPullShardArgs,
  isPutAppendArgs,
  OK,
  type PullShardArgs,
  type PullShardReply,
  type PutAppendArgs,
  type PutAppendReply,
  SERVICE,
} from './protocol.js';
import { Reconfigurer, type ReconfigurerSettings } from './reconfigurer.js';

/** How often a group's leader asks the controller for the next configuration (the lab's ~100 ms). */
export const DEFAULT_POLL_INTERVAL_MS = 100;
/** The most bytes of a shard one PullShard page (and one log entry) carries. */
export const DEFAULT_PAGE_BYTES = 256 * 1024;
/** Per-attempt timeout of a call to another group or the controller: above rsm's 2 s timeouts. */
export const DEFAULT_GROUP_CALL_TIMEOUT_MS = 3000;
/**
 * How long a refused request waits for this group to catch up with the clerk's configuration
 * and for a shard it is pulling to arrive (well below the clerk's 3 s attempt timeout).
 */
const CATCH_UP_WAIT_MS = 500;
const CATCH_UP_POLL_MS = 5;

/**
 * Options of `startShardKv`: rsm's (and through them Raft's) for this replica — `me`, `peers`
 * (one end per server of this group, by server id), `persister`, `clock`, `random`,
 * `maxraftstate` (-1: never snapshot), timeouts, `logger`, `onClose` — and the group's own.
 */
export interface ShardKvOptions
  extends Omit<ReplicatedStateMachineOptions<ShardKvMachine>, 'machine'>,
    Partial<KvLimits> {
  /** This group's id in the controller's configurations (≥ 1). */
  readonly gid: number;
  /** One end per controller replica, in any order. */
  readonly ctrlers: readonly ClientEnd[];
  /** An end to the server a configuration names (the lab's `make_end`); called once per name. */
  readonly makeEnd: (server: string) => ClientEnd;
  /** Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** Default 256 KiB: a shard larger than this moves in several pages. */
  readonly pageBytes?: number;
  /** Default 3,000 ms. */
  readonly groupCallTimeoutMs?: number;
}

/**
 * One replica of a shardkv group (the lab's `ShardKV`): a `ShardKvMachine` replicated by rsm on
 * its own Raft peer, and a `Reconfigurer` that, while this replica leads, walks the group through
 * the controller's configurations and moves shards in and out. Put/Append go through the log
 * with the clerk's session, checked against the key's shard's duplicate table; Get is an rsm
 * linearizable read. A key whose shard this group does not serve at that point answers
 * `ErrWrongGroup`; a replica that cannot serve (not the leader, timed out, closed) answers
 * `ErrWrongLeader`.
 *
 * Lifecycle (docs/DESIGN.md): made by `startShardKv`; `close()` stops the reconfigurer, the
 * controller clerk and rsm; the persister and the ends given to it stay open.
 */
export class ShardKv {
  readonly rsm: ReplicatedStateMachine<ShardKvMachine>;
  /** The `ShardKV` service's handlers: clerks' Get/PutAppend, and groups' PullShard/DeleteShard. */
  readonly service: ServiceMethods;
  readonly limits: KvLimits;
  readonly #reconfigurer: Reconfigurer;
  readonly #ctrler: CtrlerClerk;
  readonly #pageBytes: number;
  readonly #clock: Clock;
  #closing: Promise<void> | undefined;

  /** @internal made by `startShardKv`. */
  constructor(
    rsm: ReplicatedStateMachine<ShardKvMachine>,
    ctrler: CtrlerClerk,
    reconfigurer: Reconfigurer,
    limits: KvLimits,
    pageBytes: number,
    clock: Clock,
  ) {
    this.rsm = rsm;
    this.#clock = clock;
    this.limits = limits;
    this.#ctrler = ctrler;
    this.#reconfigurer = reconfigurer;
    this.#pageBytes = pageBytes;
    const fits = (key: string, value?: string): boolean =>
      oversize(limits, key, value) === undefined;
    this.service = {
      Get: validated(
        (x): x is GetArgs => isGetArgs(x) && fits(x.key),
        (args) => this.#get(args),
      ),
      PutAppend: validated(
        (x): x is PutAppendArgs => isPutAppendArgs(x) && fits(x.key, x.value),
        (args) => this.#putAppend(args),
      ),
      PullShard: validated(isPullShardArgs, (args) => this.#pullShard(args)),
      DeleteShard: validated(isDeleteShardArgs, (args) => this.#deleteShard(args)),
    };
    reconfigurer.start();
  }

  get gid(): number {
    return this.rsm.machine.gid;
  }

  get me(): number {
    return this.rsm.me;
  }

  get raft(): RaftNode {
    return this.rsm.raft;
  }

  /** Both services to bind on one RPC server, as the lab does: `ShardKV` and `Raft`. */
  get services(): { readonly ShardKV: ServiceMethods; readonly Raft: RaftNode['service'] } {
    return { ShardKV: this.service, Raft: this.rsm.service };
  }

  register(rpc: RpcServer): this {
    rpc.addService(SERVICE, this.service);
    rpc.addService('Raft', this.rsm.service);
    return this;
  }

  get killed(): boolean {
    return this.rsm.closed;
  }

  /** Stops the reconfigurer, the controller clerk and rsm. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#reconfigurer.stop();
      await Promise.all([this.#ctrler.close(), this.rsm.close()]);
    })();
    return this.#closing;
  }

  /** The lab's `Kill()`: `close()` without waiting for it. */
  kill(): void {
    this.#reconfigurer.stop();
    // rsm's kill logs a failed onClose itself; the controller clerk's close cannot fail.
    void this.#ctrler.close();
    this.rsm.kill();
  }

  /**
   * After this group refused `key` as not its shard: if the clerk sent by a later
   * configuration, take the configurations up to it now, and if the shard is then being pulled,
   * wait for it here, both bounded, rather than send the clerk away to pause and come back.
   * Resolves true if the shard is served now (the request may then be tried again).
   */
  async #caughtUp(key: string, configNum: number | undefined): Promise<boolean> {
    const machine = this.rsm.machine;
    const index = key2shard(key);
    const behind = (): boolean => configNum !== undefined && machine.config.num < configNum;
    const deadline = this.#clock.now() + CATCH_UP_WAIT_MS;
    while (!this.rsm.closed && this.#clock.now() < deadline) {
      if (behind()) this.#reconfigurer.pollNow();
      else if (machine.shard(index).status !== 'pulling') break;
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, CATCH_UP_POLL_MS));
    }
    return machine.shard(index).serves;
  }

  async #get(args: GetArgs): Promise<GetReply> {
    try {
      let outcome = await this.rsm.read((machine) => machine.get(args.key));
      if (outcome.err === 'ErrWrongGroup' && (await this.#caughtUp(args.key, args.configNum))) {
        outcome = await this.rsm.read((machine) => machine.get(args.key));
      }
      if (outcome.err === OK) return { err: OK, value: outcome.value };
      return { err: outcome.err === 'ErrNoKey' ? ErrNoKey : ErrWrongGroup, value: '' };
    } catch (err) {
      if (err instanceof RsmError) return { err: ErrWrongLeader, value: '' };
      throw err;
    }
  }

  async #putAppend(args: PutAppendArgs): Promise<PutAppendReply> {
    const { key, value, op, clientId, seq, configNum } = args;
    try {
      const write = { type: op, key, value } as const;
      let result = await this.rsm.submit(write, { clientId, seq });
      // Refused unapplied (and unrecorded), so the same write may be proposed again.
      if (result === 'ErrWrongGroup' && (await this.#caughtUp(key, configNum))) {
        result = await this.rsm.submit(write, { clientId, seq });
      }
      return { err: result === 'ErrWrongGroup' ? ErrWrongGroup : OK };
    } catch (err) {
      if (err instanceof StaleRequestError) return { err: ErrStale };
      if (err instanceof RsmError) return { err: ErrWrongLeader };
      throw err;
    }
  }

  async #pullShard(args: PullShardArgs): Promise<PullShardReply> {
    const maxBytes = Math.min(args.maxBytes, this.#pageBytes);
    try {
      const page = await this.rsm.read((machine) =>
        machine.page(args.shard, args.handoff, args.offset, maxBytes),
      );
      if (page !== undefined) return { err: OK, ...page };
      // The puller is ahead of this group: take the next configuration now, not at a tick.
      if (args.handoff > this.rsm.machine.config.num) this.#reconfigurer.pollNow();
      return { err: ErrNotReady };
    } catch (err) {
      if (err instanceof RsmError) return { err: ErrWrongLeader };
      throw err;
    }
  }

  /** Deletes the handed-off copy through the log; a copy already gone is answered OK at once. */
  async #deleteShard(args: DeleteShardArgs): Promise<DeleteShardReply> {
    const { shard, handoff } = args;
    try {
      const held = await this.rsm.read((machine) => {
        const s = machine.shard(shard);
        return s.status === 'handing-off' && s.handoff === handoff;
      });
      if (held) await this.rsm.submit({ type: 'Drop', shard, handoff });
      return { err: OK };
    } catch (err) {
      if (err instanceof RsmError) return { err: ErrWrongLeader };
      throw err;
    }
  }
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!(Number.isSafeInteger(n) && n > 0)) {
    throw new ShardKvConfigError(option, `(${String(n)}) must be a positive integer`);
  }
  return n;
}

/**
 * The lab's `StartServer(servers, me, persister, maxraftstate, gid, ctrlers, make_end)`: starts
 * rsm (restoring the persisted snapshot, then replaying the log after it) and the
 * reconfigurer, and resolves once the replica runs. Register `server.services` on the RPC
 * server the peers, the clerks and the other groups reach as this server. Rejects with
 * `ShardKvConfigError` (or rsm's / Raft's own) for bad options, leaving nothing running.
 */
export async function startShardKv(options: ShardKvOptions): Promise<ShardKv> {
  const { gid, ctrlers, makeEnd, pollIntervalMs, pageBytes, groupCallTimeoutMs, ...rest } = options;
  if (!(Number.isSafeInteger(gid) && gid >= 1)) {
    throw new ShardKvConfigError('gid', `(${String(gid)}) must be an integer ≥ 1`);
  }
  if (!Array.isArray(ctrlers) || ctrlers.length === 0) {
    throw new ShardKvConfigError('ctrlers', 'must hold one end per controller replica');
  }
  if (typeof makeEnd !== 'function') {
    throw new ShardKvConfigError('makeEnd', 'must be a function from a server name to an end');
  }
  const settings: ReconfigurerSettings = {
    pollIntervalMs: positiveInteger('pollIntervalMs', pollIntervalMs, DEFAULT_POLL_INTERVAL_MS),
    pageBytes: positiveInteger('pageBytes', pageBytes, DEFAULT_PAGE_BYTES),
    callTimeoutMs: positiveInteger(
      'groupCallTimeoutMs',
      groupCallTimeoutMs,
      DEFAULT_GROUP_CALL_TIMEOUT_MS,
    ),
  };
  const limits = kvLimits(options);
  const clock = options.clock ?? realClock;
  const rsm = await ReplicatedStateMachine.create({ ...rest, machine: new ShardKvMachine(gid) });
  // The controller clerk only reads (Query), so its id is never in a duplicate table.
  const ctrler = new CtrlerClerk(ctrlers, {
    clock,
    clientId: drawClientId(options.random),
    callTimeoutMs: settings.callTimeoutMs,
  });
  const reconfigurer = new Reconfigurer(
    rsm,
    ctrler,
    new GroupEnds(makeEnd),
    clock,
    settings,
    options.logger,
  );
  return new ShardKv(rsm, ctrler, reconfigurer, limits, settings.pageBytes, clock);
}

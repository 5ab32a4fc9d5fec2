import type { RaftNode } from '@flotilla/raft';
import {
  ReplicatedStateMachine,
  type ReplicatedStateMachineOptions,
  RsmError,
  StaleRequestError,
} from '@flotilla/rsm';
import { type RpcServer, type ServiceMethods, validated } from '@flotilla/transport';
import { type CtrlerOp, ShardCtrlerMachine } from './machine.js';
import {
  ErrInvalidArgument,
  ErrStale,
  ErrWrongLeader,
  isJoinArgs,
  isLeaveArgs,
  isMoveArgs,
  isQueryArgs,
  type JoinArgs,
  type LeaveArgs,
  type MoveArgs,
  OK,
  type QueryArgs,
  type QueryReply,
  SERVICE,
  type WriteReply,
} from './protocol.js';
import { checkLeave, checkMove, checkQuery, joinGroups } from './validate.js';

/**
 * Options of `startShardCtrler`: rsm's (and through them Raft's) for this replica: `me`,
 * `peers` (one end per server, by server id), `persister`, `clock`, `random`, `maxraftstate`
 * (-1: never snapshot; the lab's controller never does), timeouts, `logger`, `onClose`, …
 */
export interface ShardCtrlerOptions
  extends Omit<ReplicatedStateMachineOptions<ShardCtrlerMachine>, 'machine'> {}

/**
 * One shard controller replica (the lab's `ShardCtrler`): a `ShardCtrlerMachine` replicated by
 * rsm on its own Raft peer. Join, Leave and Move go through the log with the clerk's session,
 * so each applies exactly once; Query is an rsm linearizable read (no log write). Arguments
 * that can never be valid are answered `ErrInvalidArgument` before anything is proposed; the
 * ones that depend on the configuration are refused by the machine when applied. A replica
 * that cannot serve (not the leader, lost leadership, timed out, closed) answers
 * `ErrWrongLeader`, so the clerk tries another.
 *
 * Lifecycle (docs/DESIGN.md): made by `startShardCtrler`; `close()` stops rsm and its Raft
 * node; the persister and the peer ends were given to it and stay open.
 */
export class ShardCtrler {
  /** rsm, for what the service does not expose (`lastApplied`, `machine`, …). */
  readonly rsm: ReplicatedStateMachine<ShardCtrlerMachine>;
  /** The `ShardCtrler` service's handlers; arguments of the wrong shape get `BAD_ARGUMENTS`. */
  readonly service: ServiceMethods;

  /** @internal made by `startShardCtrler`. */
  constructor(rsm: ReplicatedStateMachine<ShardCtrlerMachine>) {
    this.rsm = rsm;
    this.service = {
      Query: validated(isQueryArgs, (args) => this.#query(args)),
      Join: validated(isJoinArgs, (args) => this.#join(args)),
      Leave: validated(isLeaveArgs, (args) => this.#leave(args)),
      Move: validated(isMoveArgs, (args) => this.#move(args)),
    };
  }

  get me(): number {
    return this.rsm.me;
  }

  /** The Raft node: `getState()`, `raft.service`, … Close the server, not it. */
  get raft(): RaftNode {
    return this.rsm.raft;
  }

  /** Both services to bind on one RPC server, as the lab does: `ShardCtrler` and `Raft`. */
  get services(): { readonly ShardCtrler: ServiceMethods; readonly Raft: RaftNode['service'] } {
    return { ShardCtrler: this.service, Raft: this.rsm.service };
  }

  /** Adds both services (`ShardCtrler`, `Raft`) to `rpc`. */
  register(rpc: RpcServer): this {
    rpc.addService(SERVICE, this.service);
    rpc.addService('Raft', this.rsm.service);
    return this;
  }

  /** True once `close()` or `kill()` was called, or Raft stopped on its own. */
  get killed(): boolean {
    return this.rsm.closed;
  }

  /** Stops; resolves once the Raft node has stopped. Idempotent. */
  close(): Promise<void> {
    return this.rsm.close();
  }

  /** The lab's `Kill()`: `close()` without waiting for it. */
  kill(): void {
    this.rsm.kill();
  }

  async #query(args: QueryArgs): Promise<QueryReply> {
    const invalid = checkQuery(args.num);
    if (invalid !== undefined) return { err: ErrInvalidArgument, invalid };
    try {
      return { err: OK, config: await this.rsm.read((machine) => machine.query(args.num)) };
    } catch (err) {
      if (err instanceof RsmError) return { err: ErrWrongLeader };
      throw err;
    }
  }

  #join(args: JoinArgs): Promise<WriteReply> {
    const joined = joinGroups(args.servers);
    if ('invalid' in joined) return Promise.resolve({ err: ErrInvalidArgument, ...joined });
    return this.#submit({ type: 'Join', groups: joined.groups }, args);
  }

  #leave(args: LeaveArgs): Promise<WriteReply> {
    const invalid = checkLeave(args.gids);
    if (invalid !== undefined) return Promise.resolve({ err: ErrInvalidArgument, invalid });
    return this.#submit({ type: 'Leave', gids: [...args.gids] }, args);
  }

  #move(args: MoveArgs): Promise<WriteReply> {
    const invalid = checkMove(args.shard, args.gid);
    if (invalid !== undefined) return Promise.resolve({ err: ErrInvalidArgument, invalid });
    return this.#submit({ type: 'Move', shard: args.shard, gid: args.gid }, args);
  }

  async #submit(
    op: CtrlerOp,
    session: { readonly clientId: number; readonly seq: number },
  ): Promise<WriteReply> {
    try {
      const result = await this.rsm.submit(op, { clientId: session.clientId, seq: session.seq });
      return result.ok
        ? { err: OK, num: result.num }
        : { err: ErrInvalidArgument, invalid: result.invalid };
    } catch (err) {
      if (err instanceof StaleRequestError) return { err: ErrStale };
      // Not leader, leadership lost, timed out, closed: applied here at most once (the session
      // guards a resend), so the clerk may resend it anywhere.
      if (err instanceof RsmError) return { err: ErrWrongLeader };
      throw err;
    }
  }
}

/**
 * The lab's `StartServer(servers, me, persister)`: starts rsm (restoring the persisted
 * snapshot, then replaying the log after it) and resolves once the replica runs. Register
 * `server.services` on the RPC server the peers reach as server `me`. Rejects with rsm's
 * `RsmConfigError` (or Raft's) for bad options, leaving nothing running.
 */
export async function startShardCtrler(options: ShardCtrlerOptions): Promise<ShardCtrler> {
  const rsm = await ReplicatedStateMachine.create({
    ...options,
    machine: new ShardCtrlerMachine(),
  });
  return new ShardCtrler(rsm);
}

import type { RaftNode } from '@flotilla/raft';
import {
  ReplicatedStateMachine,
  type ReplicatedStateMachineOptions,
  RsmError,
  StaleRequestError,
} from '@flotilla/rsm';
import { type RpcServer, type ServiceMethods, validated } from '@flotilla/transport';
import { type KvLimits, kvLimits, oversize } from './limits.js';
import { KvMachine } from './machine.js';
import {
  ErrNoKey,
  ErrStale,
  ErrWrongLeader,
  type GetArgs,
  type GetReply,
  isGetArgs,
  isPutAppendArgs,
  OK,
  type PutAppendArgs,
  type PutAppendReply,
  SERVICE,
} from './protocol.js';

/**
 * Options of `startKvServer`: rsm's (and through them Raft's) for this replica: `me`, `peers`
 * (one end per server, by server id), `persister`, `clock`, `random`, `maxraftstate` (-1:
 * never snapshot), timeouts, `logger`, `onClose`, … The state machine is kvraft's own. A
 * request whose key or value is over `maxKeyBytes` / `maxValueBytes` (defaults 4 KiB, 1 MiB)
 * is answered `BAD_ARGUMENTS` (the clerk checks the same limits before sending).
 */
export interface KvServerOptions
  extends Omit<ReplicatedStateMachineOptions<KvMachine>, 'machine'>,
    Partial<KvLimits> {}

/**
 * One kvraft replica (the lab's `KVServer`): a `KvMachine` replicated by rsm on its own Raft
 * peer. Put/Append go through the log with the clerk's session, so each applies exactly once;
 * Get is an rsm linearizable read (read index, no log write). A replica that cannot serve a
 * request (not the leader, lost leadership, timed out, closed) answers `ErrWrongLeader`, so
 * the clerk tries another.
 *
 * Lifecycle (docs/DESIGN.md): made by `startKvServer`; `close()` stops rsm and its Raft node;
 * the persister and the peer ends were given to it and stay open. `kill()` is the lab's.
 */
export class KvServer {
  /** rsm, for what the service does not expose (`lastApplied`, `snapshotsTaken`, `machine`). */
  readonly rsm: ReplicatedStateMachine<KvMachine>;
  /** The `KVServer` service's handlers; arguments of the wrong shape get `BAD_ARGUMENTS`. */
  readonly service: ServiceMethods;
  readonly limits: KvLimits;

  /** @internal made by `startKvServer`. */
  constructor(rsm: ReplicatedStateMachine<KvMachine>, limits: KvLimits) {
    this.rsm = rsm;
    this.limits = limits;
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
    };
  }

  get me(): number {
    return this.rsm.me;
  }

  /** The Raft node: `getState()` (the lab's `GetState()`), `raft.service`, … Close the server, not it. */
  get raft(): RaftNode {
    return this.rsm.raft;
  }

  /** Both services to bind on one RPC server, as the lab does: `KVServer` and `Raft`. */
  get services(): { readonly KVServer: ServiceMethods; readonly Raft: RaftNode['service'] } {
    return { KVServer: this.service, Raft: this.rsm.service };
  }

  /** Adds both services (`KVServer`, `Raft`) to `rpc`. */
  register(rpc: RpcServer): this {
    rpc.addService(SERVICE, this.service);
    rpc.addService('Raft', this.rsm.service);
    return this;
  }

  /** True once `close()` or `kill()` was called, or Raft stopped on its own. */
  get killed(): boolean {
    return this.rsm.closed;
  }

  /**
   * Stops: requests in flight and later ones answer `ErrWrongLeader`; resolves once the Raft
   * node has stopped. Idempotent (every call returns the first call's promise).
   */
  close(): Promise<void> {
    return this.rsm.close();
  }

  /** The lab's `Kill()`: `close()` without waiting for it. */
  kill(): void {
    this.rsm.kill();
  }

  async #get(args: GetArgs): Promise<GetReply> {
    try {
      const value = await this.rsm.read((machine) => machine.get(args.key));
      return value === undefined ? { err: ErrNoKey, value: '' } : { err: OK, value };
    } catch (err) {
      // Every rsm refusal of a read means nothing happened here: try another server.
      if (err instanceof RsmError) return { err: ErrWrongLeader, value: '' };
      throw err;
    }
  }

  async #putAppend(args: PutAppendArgs): Promise<PutAppendReply> {
    const { key, value, op, clientId, seq } = args;
    try {
      await this.rsm.submit({ type: op, key, value }, { clientId, seq });
      return { err: OK };
    } catch (err) {
      if (err instanceof StaleRequestError) return { err: ErrStale };
      // Not leader, leadership lost, timed out, closed: the op applied here at most once (the
      // session guards a resend), so the clerk may resend it anywhere.
      if (err instanceof RsmError) return { err: ErrWrongLeader };
      throw err;
    }
  }
}

/**
 * The lab's `StartKVServer(servers, me, persister, maxraftstate)`: starts rsm (restoring the
 * persisted snapshot, then replaying the log after it) and resolves once the replica runs.
 * Register `server.services` on the RPC server the peers reach as server `me`. Rejects with
 * rsm's `RsmConfigError` (or Raft's, or `KvraftConfigError` for a limit) for bad options,
 * leaving nothing running.
 */
export async function startKvServer(options: KvServerOptions): Promise<KvServer> {
  const limits = kvLimits(options);
  const rsm = await ReplicatedStateMachine.create({ ...options, machine: new KvMachine() });
  return new KvServer(rsm, limits);
}

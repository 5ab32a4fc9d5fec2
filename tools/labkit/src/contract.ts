import type { MemoryPersister } from '@flotilla/raft';
import type { ClientEnd, Clock, SeededRandom, ServiceMethods } from '@flotilla/transport';

/** What the harness asks a server's Raft peer: who claims to lead, in which term. */
export interface RaftHandle {
  getState(): { readonly term: number; readonly isLeader: boolean };
}

/**
 * A started server, as the harness sees it (the lab's `*KVServer` / `*ShardCtrler` /
 * `*ShardKV`): the services to bind on its network server, its Raft handle, and the two ways
 * to stop it.
 */
export interface LabServer {
  /**
   * Every RPC service of this server by name, bound together on one network server as the lab
   * does: the service's own (e.g. `KVServer`) **and** its Raft peer's (`Raft`, e.g.
   * `raftNode.service`), so one network server carries both kinds of traffic.
   */
  readonly services: Readonly<Record<string, ServiceMethods>>;
  readonly raft: RaftHandle;
  /** The lab's `Kill()`: stop now, without waiting (shutdownServer). */
  kill(): void;
  /** Stop and resolve once everything it owns is released (cleanup). */
  close(): Promise<void>;
}

/** What a server gets besides the lab's four arguments: the simulation it runs in. */
export interface ServerEnv {
  /** The simulation's virtual clock. */
  readonly clock: Clock;
  /** A generator forked for this incarnation from the test's seeded one. */
  readonly random: SeededRandom;
  /** This server's name on the network (e.g. `"3"`, `"server-101-2"`). */
  readonly name: string;
  /**
   * A fresh end, enabled, to the server bound as `serverName` (the lab's shardkv `make_end`,
   * also how a group server reaches the controller). The harness disables and deletes it when
   * this incarnation is shut down, so a killed server can't send.
   */
  makeEnd(serverName: string): ClientEnd;
}

/**
 * The lab's `StartKVServer(ends, me, persister, maxraftstate)`: `ends[j]` reaches server j of
 * the same cluster (`ends[me]` reaches itself); the persister holds what the last incarnation
 * saved. Must resolve quickly; long-running work goes on the clock.
 */
export type StartServer<S extends LabServer> = (
  ends: readonly ClientEnd[],
  me: number,
  persister: MemoryPersister,
  maxraftstate: number,
  env: ServerEnv,
) => Promise<S>;

/** What a clerk gets besides its ends. */
export interface ClerkEnv {
  readonly clock: Clock;
  /** A generator forked for this clerk from the test's seeded one. */
  readonly random: SeededRandom;
  /** A fresh enabled end to `serverName` (shardkv's `make_end`); deleted with the clerk. */
  makeEnd(serverName: string): ClientEnd;
}

/**
 * The lab's `MakeClerk(random_handles(ends))`: `ends` has one end per server of the cluster,
 * in a random order (an end's index is not the server's id).
 */
export type ClerkFactory<C extends object> = (ends: readonly ClientEnd[], env: ClerkEnv) => C;

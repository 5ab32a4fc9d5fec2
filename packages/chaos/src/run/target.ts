import type { Clock, Random } from '@flotilla/transport';
import type { ProcessSpec } from '../managed-process.js';
import type { ChaosClerk } from './workload.js';

/**
 * One Raft cluster of a target: `size` replicas, each started by `serverSpec`. `peers` holds,
 * at `id`, the replica's own real URL (where it listens) and elsewhere the URL of the fault
 * proxy through which it reaches that peer.
 */
export interface ChaosCluster {
  /** Names the replicas `<name>-<id>` in the schedule and the logs. */
  readonly name: string;
  readonly size: number;
  serverSpec(id: number, peers: readonly string[], dataDir: string, net: ChaosNetwork): ProcessSpec;
}

/** What the runner built: where clients reach each cluster (its client proxies). */
export interface ChaosNetwork {
  clientUrls(cluster: string): readonly string[];
}

/** A change the target keeps making while the clerks run (shardkv: joins, leaves, moves). */
export interface ChaosChurn {
  /** Ends the loop and waits for it; what is in flight is given up. */
  stop(): Promise<void>;
  /** Changes applied so far, by kind (`join`, `leave`, `move`). */
  readonly changes: Readonly<Record<string, number>>;
  /** Errors it could not retry past. */
  readonly errors: readonly string[];
}

/** A service a chaos run can drive: its clusters, how clients talk to it, what else it does. */
export interface ChaosTarget {
  readonly name: string;
  readonly clusters: readonly ChaosCluster[];
  /** A line every server prints once it serves. */
  readonly ready: RegExp;
  /** Runs once every server is ready, before the clerks (shardkv: the first join). */
  setup?(net: ChaosNetwork): Promise<void>;
  connect(net: ChaosNetwork): ChaosClerk;
  churn?(net: ChaosNetwork, random: Random, clock: Clock): ChaosChurn;
}

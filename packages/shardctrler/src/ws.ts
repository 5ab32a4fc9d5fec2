import type { FilePersister } from '@flotilla/raft';
import { listenReplica, type ReplicaEndpointOptions } from '@flotilla/rsm';
import {
  type Clock,
  checkWsUrls,
  connectEnds,
  type Random,
  realClock,
  systemRandom,
  type WsClientOptions,
  type WsServer,
} from '@flotilla/transport';
import { Clerk, type ClerkOptions } from './clerk.js';
import { ShardCtrlerConfigError } from './errors.js';
import { type ShardCtrler, type ShardCtrlerOptions, startShardCtrler } from './server.js';

export interface ListenShardCtrlerOptions
  extends Omit<
      ShardCtrlerOptions,
      'peers' | 'persister' | 'onClose' | 'logger' | 'clock' | 'random'
    >,
    ReplicaEndpointOptions {
  /** Default the real clock and the OS's randomness. */
  readonly clock?: Clock;
  readonly random?: Random;
}

/** A controller replica serving `ShardCtrler` and `Raft` on a WebSocket port, its state on disk. */
export interface ShardCtrlerHandle {
  readonly server: ShardCtrler;
  readonly ws: WsServer;
  readonly persister: FilePersister;
  /** The bound `ws://host:port`. */
  readonly url: string;
  /**
   * Stops in the reverse order of start: peer connections, the listener, the replica, then the
   * persister (its lock released). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts controller replica `me` of the cluster `peers` as a server process would: opens (or
 * recovers) the FilePersister in `dataDir`, connects to the other replicas with transport's
 * `peerClient`, starts the replica and listens (on `peers[me]`'s host and port unless
 * `host`/`port` say otherwise). Resolves once it serves; on any failure rejects, leaving
 * nothing open. The skeleton is rsm's `listenReplica`.
 */
export async function listenShardCtrler(
  options: ListenShardCtrlerOptions,
): Promise<ShardCtrlerHandle> {
  const served = await listenReplica({
    ...options,
    optionError: configError,
    start: ({ persister, peers, logger }) =>
      startShardCtrler({
        ...options,
        logger,
        clock: options.clock ?? realClock,
        random: options.random ?? systemRandom,
        persister,
        peers,
      }),
  });
  const { replica: server, ws, persister, url, close } = served;
  return { server, ws, persister, url, close };
}

export interface ConnectClerkOptions
  extends ClerkOptions,
    Omit<WsClientOptions, 'url' | 'clock' | 'random' | 'callTimeoutMs'> {}

/**
 * A clerk of the controller whose replicas listen at `urls` (`ws://host:port`, any order), over
 * one WebSocket connection per replica that reconnects by itself (`failWhileDown`: a replica
 * that is down is skipped at once; transport's `connectEnds`); `clerk.close()` closes them.
 */
export function connectClerk(urls: readonly string[], options: ConnectClerkOptions = {}): Clerk {
  checkWsUrls('urls', urls, configError);
  const clients = connectEnds(urls, options);
  return new Clerk(clients, {
    ...options,
    onClose: async () => {
      await Promise.all(clients.map((client) => client.close()));
      await options.onClose?.();
    },
  });
}

function configError(option: string, message: string): ShardCtrlerConfigError {
  return new ShardCtrlerConfigError(option, message);
}

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
import { KvraftConfigError } from './errors.js';
import { frameBytesFor, kvLimits } from './limits.js';
import { type KvServer, type KvServerOptions, startKvServer } from './server.js';

export interface ListenKvServerOptions
  extends Omit<KvServerOptions, 'peers' | 'persister' | 'onClose' | 'logger' | 'clock' | 'random'>,
    ReplicaEndpointOptions {
  /** Default the real clock and the OS's randomness. */
  readonly clock?: Clock;
  readonly random?: Random;
}

/** A kvraft replica serving `KVServer` and `Raft` on a WebSocket port, with its state on disk. */
export interface KvServerHandle {
  readonly server: KvServer;
  readonly ws: WsServer;
  readonly persister: FilePersister;
  /** The bound `ws://host:port`. */
  readonly url: string;
  /**
   * Stops in the reverse order of start: peer connections, the listener (connections dropped,
   * calls in flight lose their replies), the replica, then the persister (its lock released).
   * Idempotent: every call gets the first one's promise.
   */
  close(): Promise<void>;
}

/**
 * Starts replica `me` of the cluster `peers` as a server process would: opens (or recovers)
 * the FilePersister in `dataDir` (fsync on every save; `PersisterLockedError` if another
 * process holds it), connects to the other replicas with transport's `peerClient`, starts the
 * replica and listens. Resolves once it serves; on any failure rejects, leaving nothing open.
 * The skeleton is rsm's `listenReplica`.
 */
export async function listenKvServer(options: ListenKvServerOptions): Promise<KvServerHandle> {
  const limits = kvLimits(options);
  const served = await listenReplica({
    ...options,
    maxFrameBytes: frameBytesFor(limits),
    optionError: configError,
    start: ({ persister, peers, logger }) =>
      startKvServer({
        ...options,
        ...limits,
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
    Omit<WsClientOptions, 'url' | 'clock' | 'random' | 'callTimeoutMs' | 'maxFrameBytes'> {}

/**
 * A clerk of the cluster whose replicas listen at `urls` (`ws://host:port`, any order), over
 * one WebSocket connection per replica that reconnects by itself (`failWhileDown`: a replica
 * that is down is skipped at once; transport's `connectEnds`); `clerk.close()` closes them.
 */
export function connectClerk(urls: readonly string[], options: ConnectClerkOptions = {}): Clerk {
  checkWsUrls('urls', urls, configError);
  const limits = kvLimits(options);
  const clients = connectEnds(urls, { ...options, maxFrameBytes: frameBytesFor(limits) });
  return new Clerk(clients, {
    ...options,
    onClose: async () => {
      await Promise.all(clients.map((client) => client.close()));
      await options.onClose?.();
    },
  });
}

function configError(option: string, message: string): KvraftConfigError {
  return new KvraftConfigError(option, message);
}

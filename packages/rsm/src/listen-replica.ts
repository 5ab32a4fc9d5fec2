import { FilePersister, type FilePersisterOptions } from '@flotilla/raft';
import {
  checkWsUrls,
  type Logger,
  listenAddress,
  type OptionErrorFactory,
  peerClient,
  RpcServer,
  stderrLogger,
  type WsClient,
  WsServer,
  type WsServerOptions,
} from '@flotilla/transport';

/** The largest frame between replicas: AppendEntries batches and snapshot chunks (1 MiB each). */
export const PEER_FRAME_BYTES = 64 * 1024 * 1024;

/** What `listenReplica`'s `start` gets: the replica's persister, its peers and its logger. */
export interface ReplicaParts {
  readonly persister: FilePersister;
  /** One end per server by server id; `peers[me]` is `null` (never called). */
  readonly peers: readonly (WsClient | null)[];
  readonly logger: Logger;
}

/** A started replica as `listenReplica` serves it. */
export interface ServedReplica {
  /** Adds its services (its own and Raft's) to the server the peers and clerks reach. */
  register(rpc: RpcServer): void;
  close(): Promise<void>;
}

/**
 * Where and how one replica serves: the options every rsm service's `listen…` shares (it adds
 * its own state machine's).
 */
export interface ReplicaEndpointOptions
  extends Pick<WsServerOptions, 'authToken' | 'maxInFlightPerConnection'> {
  /** This replica's server id: an index into `peers`. */
  readonly me: number;
  /** Every replica's `ws://host:port`, by server id; `peers[me]` is this one's. */
  readonly peers: readonly string[];
  /** This replica's own directory: its FilePersister (WAL, snapshot, lock) lives there. */
  readonly dataDir: string;
  /** Where to listen; default the host and port of `peers[me]`. */
  readonly host?: string;
  readonly port?: number;
  readonly persister?: FilePersisterOptions;
  /** Default: one JSON line per event on stderr. */
  readonly logger?: Logger;
}

export interface ListenReplicaOptions<R extends ServedReplica> extends ReplicaEndpointOptions {
  /** The listener's frame limit; default (and at least) `PEER_FRAME_BYTES`. */
  readonly maxFrameBytes?: number;
  /** The service's own error for a bad `me` or url (every package keeps its error classes). */
  readonly optionError: OptionErrorFactory;
  /** Starts the replica on the parts opened for it. */
  readonly start: (parts: ReplicaParts) => Promise<R>;
}

/** A replica serving on a WebSocket port, with its state on disk. */
export interface ReplicaHandle<R extends ServedReplica> {
  readonly replica: R;
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
 * Serves replica `me` of the cluster `peers` as a server process would: opens (or recovers)
 * the FilePersister in `dataDir` (`PersisterLockedError` if another process holds it),
 * connects to the other replicas with transport's `peerClient`, starts the replica (`start`)
 * and listens. Resolves once it serves; on any failure rejects, leaving nothing open. The
 * skeleton every rsm service's `listen…` shares.
 */
export async function listenReplica<R extends ServedReplica>(
  options: ListenReplicaOptions<R>,
): Promise<ReplicaHandle<R>> {
  const { me, peers, dataDir, optionError } = options;
  if (!(Number.isSafeInteger(me) && me >= 0 && me < peers.length)) {
    throw optionError('me', `(${String(me)}) must index peers (${peers.length} urls)`);
  }
  const own = listenAddress(checkWsUrls('peers', peers, optionError)[me] as URL);
  const logger = options.logger ?? stderrLogger;

  const persister = await FilePersister.open(dataDir, { logger, ...options.persister });
  const clients = peers.map((url, j) =>
    j === me
      ? null
      : peerClient(url, { authToken: options.authToken, logger, maxFrameBytes: PEER_FRAME_BYTES }),
  );
  const closeClients = (): Promise<unknown> => Promise.all(clients.map((c) => c?.close()));
  let replica: R | undefined;
  try {
    replica = await options.start({ persister, peers: clients, logger });
    const rpc = new RpcServer({ logger });
    replica.register(rpc);
    const ws = await WsServer.listen({
      rpcServer: rpc,
      host: options.host ?? own.host,
      port: options.port ?? own.port,
      authToken: options.authToken,
      maxInFlightPerConnection: options.maxInFlightPerConnection,
      maxFrameBytes: Math.max(PEER_FRAME_BYTES, options.maxFrameBytes ?? 0),
      logger,
    });
    const running = replica;
    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      await closeClients();
      await ws.close();
      await running.close();
      await persister.close();
    };
    return {
      replica,
      ws,
      persister,
      url: ws.url,
      close: () => {
        closing ??= close();
        return closing;
      },
    };
  } catch (err) {
    await closeClients();
    await replica?.close();
    await persister.close();
    throw err;
  }
}

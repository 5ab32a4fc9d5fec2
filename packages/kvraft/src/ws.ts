import { FilePersister, type FilePersisterOptions } from '@flotilla/raft';
import {
  type Clock,
  type Logger,
  peerClient,
  type Random,
  RpcServer,
  realClock,
  stderrLogger,
  systemRandom,
  WsClient,
  type WsClientOptions,
  WsServer,
  type WsServerOptions,
} from '@flotilla/transport';
import { Clerk, type ClerkOptions } from './clerk.js';
import { KvraftConfigError } from './errors.js';
import { frameBytesFor, kvLimits } from './limits.js';
import { type KvServer, type KvServerOptions, startKvServer } from './server.js';

/** The largest frame between replicas: AppendEntries batches and snapshot chunks (1 MiB each). */
const PEER_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * A clerk's reconnect backoff: 50 ms doubling to 1 s. A restarted replica is back in the
 * clerk's rotation within a second, without a storm of connects while it is down.
 */
const CLERK_RECONNECT = { initialDelayMs: 50, maxDelayMs: 1000 } as const;

export interface ListenKvServerOptions
  extends Omit<KvServerOptions, 'peers' | 'persister' | 'onClose' | 'logger' | 'clock' | 'random'>,
    Pick<WsServerOptions, 'authToken' | 'maxInFlightPerConnection'> {
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
 */
export async function listenKvServer(options: ListenKvServerOptions): Promise<KvServerHandle> {
  const { me, peers, dataDir } = options;
  if (!(Number.isSafeInteger(me) && me >= 0 && me < peers.length)) {
    throw new KvraftConfigError('me', `(${String(me)}) must index peers (${peers.length} urls)`);
  }
  const own = parseWsUrl('peers', peers[me] as string);
  for (const url of peers) parseWsUrl('peers', url);
  const logger = options.logger ?? stderrLogger;
  const limits = kvLimits(options);

  const persister = await FilePersister.open(dataDir, { logger, ...options.persister });
  const clients = peers.map((url, j) =>
    j === me
      ? null
      : peerClient(url, { authToken: options.authToken, logger, maxFrameBytes: PEER_FRAME_BYTES }),
  );
  const closeClients = (): Promise<unknown> => Promise.all(clients.map((c) => c?.close()));
  let server: KvServer | undefined;
  try {
    server = await startKvServer({
      ...options,
      ...limits,
      logger,
      clock: options.clock ?? realClock,
      random: options.random ?? systemRandom,
      persister,
      // peers[me] is never called.
      peers: clients,
    });
    const rpc = new RpcServer({ logger });
    server.register(rpc);
    const ws = await WsServer.listen({
      rpcServer: rpc,
      host: options.host ?? own.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: options.port ?? Number(own.port),
      authToken: options.authToken,
      maxInFlightPerConnection: options.maxInFlightPerConnection,
      maxFrameBytes: Math.max(PEER_FRAME_BYTES, frameBytesFor(limits)),
      logger,
    });
    const running = server;
    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      await closeClients();
      await ws.close();
      await running.close();
      await persister.close();
    };
    return {
      server,
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
    await server?.close();
    await persister.close();
    throw err;
  }
}

export interface ConnectClerkOptions
  extends ClerkOptions,
    Omit<WsClientOptions, 'url' | 'clock' | 'random' | 'callTimeoutMs' | 'maxFrameBytes'> {}

/**
 * A clerk of the cluster whose replicas listen at `urls` (`ws://host:port`, any order), over
 * one WebSocket connection per replica that reconnects by itself (`failWhileDown`: a replica
 * that is down is skipped at once); `clerk.close()` closes them.
 */
export function connectClerk(urls: readonly string[], options: ConnectClerkOptions = {}): Clerk {
  if (urls.length === 0) throw new KvraftConfigError('urls', 'must hold one url per server');
  for (const url of urls) parseWsUrl('urls', url);
  const limits = kvLimits(options);
  const clients: WsClient[] = urls.map(
    (url) =>
      new WsClient({
        reconnect: CLERK_RECONNECT,
        // A replica that is down answers UNREACHABLE at once: the clerk tries the next one
        // instead of waiting out its 3 s attempt timeout on a dead server.
        failWhileDown: true,
        ...options,
        url,
        maxFrameBytes: frameBytesFor(limits),
      }),
  );
  return new Clerk(clients, {
    ...options,
    onClose: async () => {
      await Promise.all(clients.map((client) => client.close()));
      await options.onClose?.();
    },
  });
}

function parseWsUrl(option: string, url: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed.protocol !== 'ws:' || parsed.port === '') {
    throw new KvraftConfigError(option, `wants ws://host:port urls, got ${JSON.stringify(url)}`);
  }
  return parsed;
}

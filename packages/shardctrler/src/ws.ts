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
import { ShardCtrlerConfigError } from './errors.js';
import { type ShardCtrler, type ShardCtrlerOptions, startShardCtrler } from './server.js';

/** The largest frame between replicas: AppendEntries batches and snapshot chunks. */
const PEER_FRAME_BYTES = 64 * 1024 * 1024;

/** A clerk's reconnect backoff: 50 ms doubling to 1 s. */
const CLERK_RECONNECT = { initialDelayMs: 50, maxDelayMs: 1000 } as const;

export interface ListenShardCtrlerOptions
  extends Omit<
      ShardCtrlerOptions,
      'peers' | 'persister' | 'onClose' | 'logger' | 'clock' | 'random'
    >,
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
 * nothing open.
 */
export async function listenShardCtrler(
  options: ListenShardCtrlerOptions,
): Promise<ShardCtrlerHandle> {
  const { me, peers, dataDir } = options;
  if (!(Number.isSafeInteger(me) && me >= 0 && me < peers.length)) {
    throw new ShardCtrlerConfigError(
      'me',
      `(${String(me)}) must index peers (${peers.length} urls)`,
    );
  }
  const own = parseWsUrl('peers', peers[me] as string);
  for (const url of peers) parseWsUrl('peers', url);
  const logger = options.logger ?? stderrLogger;

  const persister = await FilePersister.open(dataDir, { logger, ...options.persister });
  const clients = peers.map((url, j) =>
    j === me
      ? null
      : peerClient(url, { authToken: options.authToken, logger, maxFrameBytes: PEER_FRAME_BYTES }),
  );
  const closeClients = (): Promise<unknown> => Promise.all(clients.map((c) => c?.close()));
  let server: ShardCtrler | undefined;
  try {
    server = await startShardCtrler({
      ...options,
      logger,
      clock: options.clock ?? realClock,
      random: options.random ?? systemRandom,
      persister,
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
      maxFrameBytes: PEER_FRAME_BYTES,
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
    Omit<WsClientOptions, 'url' | 'clock' | 'random' | 'callTimeoutMs'> {}

/**
 * A clerk of the controller whose replicas listen at `urls` (`ws://host:port`, any order), over
 * one WebSocket connection per replica that reconnects by itself; `clerk.close()` closes them.
 */
export function connectClerk(urls: readonly string[], options: ConnectClerkOptions = {}): Clerk {
  if (urls.length === 0) {
    throw new ShardCtrlerConfigError('urls', 'must hold one url per server');
  }
  for (const url of urls) parseWsUrl('urls', url);
  const clients: WsClient[] = urls.map(
    (url) => new WsClient({ reconnect: CLERK_RECONNECT, ...options, url }),
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
    throw new ShardCtrlerConfigError(
      option,
      `wants ws://host:port urls, got ${JSON.stringify(url)}`,
    );
  }
  return parsed;
}

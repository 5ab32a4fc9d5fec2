import type { FilePersister } from '@flotilla/raft';
import { listenReplica, type ReplicaEndpointOptions } from '@flotilla/rsm';
import {
  type CallResult,
  type ClientEnd,
  type Clock,
  checkWsUrls,
  connectEnds,
  type Logger,
  parseWsUrl,
  type Random,
  realClock,
  systemRandom,
  type WsClient,
  type WsClientOptions,
  type WsServer,
} from '@flotilla/transport';
import { Clerk, type ClerkOptions } from './clerk.js';
import { ShardKvConfigError } from './errors.js';
import { frameBytesFor, kvLimits } from './limits.js';
import { DEFAULT_PAGE_BYTES, type ShardKv, type ShardKvOptions, startShardKv } from './server.js';

export interface ListenShardKvOptions
  extends Omit<
      ShardKvOptions,
      'peers' | 'persister' | 'onClose' | 'logger' | 'clock' | 'random' | 'ctrlers' | 'makeEnd'
    >,
    ReplicaEndpointOptions {
  /** Every controller replica's `ws://host:port`, in any order. */
  readonly ctrlers: readonly string[];
  /** Default the real clock and the OS's randomness. */
  readonly clock?: Clock;
  readonly random?: Random;
}

/** A shardkv replica serving `ShardKV` and `Raft` on a WebSocket port, with its state on disk. */
export interface ShardKvHandle {
  readonly server: ShardKv;
  readonly ws: WsServer;
  readonly persister: FilePersister;
  /** The bound `ws://host:port`: the name to give for this server in a Join. */
  readonly url: string;
  /** Stops in the reverse order of start (see rsm's `listenReplica`); idempotent. */
  close(): Promise<void>;
}

/**
 * Starts replica `me` of group `gid` as a server process would: opens (or recovers) its
 * FilePersister in `dataDir`, connects to the group's other replicas and to the controller,
 * starts the replica and listens. The servers of other groups are reached at the names their
 * Join gave, which must be their `ws://host:port` urls. Resolves once it serves; on any
 * failure rejects, leaving nothing open.
 */
export async function listenShardKv(options: ListenShardKvOptions): Promise<ShardKvHandle> {
  const limits = kvLimits(options);
  checkWsUrls('ctrlers', options.ctrlers, configError);
  // Calls to other groups carry one page at most (and a page holds one item at least).
  const groupFrameBytes = frameBytesFor(limits) + (options.pageBytes ?? DEFAULT_PAGE_BYTES);
  const served = await listenReplica({
    ...options,
    maxFrameBytes: frameBytesFor(limits),
    optionError: configError,
    start: async ({ persister, peers, logger }) => {
      const shared = { authToken: options.authToken, logger };
      const ctrlers = connectEnds(options.ctrlers, shared);
      const made: WsClient[] = [];
      const makeEnd = (server: string): ClientEnd => {
        const [end] =
          parseWsUrl(server) === undefined
            ? []
            : connectEnds([server], {
                ...shared,
                maxFrameBytes: groupFrameBytes,
              });
        if (end === undefined) return unreachable(server, logger);
        made.push(end);
        return end;
      };
      const closeEnds = async (): Promise<void> => {
        await Promise.all([...ctrlers, ...made].map((end) => end.close()));
      };
      try {
        return await startShardKv({
          ...options,
          ...limits,
          logger,
          clock: options.clock ?? realClock,
          random: options.random ?? systemRandom,
          persister,
          peers,
          ctrlers,
          makeEnd,
          onClose: closeEnds,
        });
      } catch (err) {
        await closeEnds();
        throw err;
      }
    },
  });
  const { replica: server, ws, persister, url, close } = served;
  return { server, ws, persister, url, close };
}

/** The end for a server name that is not a ws url (a Join gave a wrong name): never reached. */
function unreachable(server: string, logger: Logger): ClientEnd {
  logger.warn(
    { server },
    'shardkv: a configuration names a server that is not a ws://host:port url',
  );
  const result: CallResult<never> = {
    ok: false,
    code: 'UNREACHABLE',
    message: `${JSON.stringify(server)} is not a ws://host:port url`,
  };
  return { call: () => Promise.resolve(result) };
}

export interface ConnectClerkOptions
  extends ClerkOptions,
    Omit<WsClientOptions, 'url' | 'clock' | 'random' | 'callTimeoutMs' | 'maxFrameBytes'> {}

/**
 * A clerk of the sharded service whose controller replicas listen at `ctrlers` (`ws://host:port`,
 * any order). It connects to each group's servers, at the urls the configurations name, as it
 * first needs them, one reconnecting WebSocket per server (transport's `connectEnds`);
 * `clerk.close()` closes them all.
 */
export function connectClerk(ctrlers: readonly string[], options: ConnectClerkOptions = {}): Clerk {
  checkWsUrls('ctrlers', ctrlers, configError);
  const limits = kvLimits(options);
  const wsOptions = { ...options, maxFrameBytes: frameBytesFor(limits) };
  const clients = connectEnds(ctrlers, wsOptions);
  const made: WsClient[] = [];
  const makeEnd = (server: string): ClientEnd => {
    if (parseWsUrl(server) === undefined) {
      return unreachable(server, { warn: () => {}, info: () => {} });
    }
    const [end] = connectEnds([server], wsOptions) as [WsClient];
    made.push(end);
    return end;
  };
  return new Clerk(clients, makeEnd, {
    ...options,
    onClose: async () => {
      await Promise.all([...clients, ...made].map((client) => client.close()));
      await options.onClose?.();
    },
  });
}

function configError(option: string, message: string): ShardKvConfigError {
  return new ShardKvConfigError(option, message);
}

import {
  RpcServer,
  WsClient,
  type WsClientOptions,
  WsServer,
  type WsServerOptions,
} from '@flotilla/transport';
import { Clerk, type ClerkOptions } from './clerk.js';
import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from './limits.js';
import { KvServer, type KvServerOptions } from './server.js';

/** Room in a frame for everything but the key and value (ids, field names, envelope). */
const FRAME_OVERHEAD_BYTES = 64 * 1024;

/**
 * The frame size that fits the largest request or reply under the given limits: the
 * `maxFrameBytes` to give a `WsServer` you serve a `KvServer` on yourself (with its `limits`),
 * or a `WsClient` you share between clerks (with the server's).
 */
export function frameBytesFor(limits: { maxKeyBytes?: number; maxValueBytes?: number }): number {
  return (
    (limits.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES) +
    (limits.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES) +
    FRAME_OVERHEAD_BYTES
  );
}

export interface ListenKvServerOptions
  extends KvServerOptions,
    Omit<WsServerOptions, 'rpcServer' | 'maxFrameBytes'> {
  /** Default: just enough for the largest key and value. */
  readonly maxFrameBytes?: number;
}

/** A kvsrv server listening on a WebSocket port. */
export interface KvServerHandle {
  readonly server: KvServer;
  readonly ws: WsServer;
  /** `ws://host:port`, for `connectClerk`. */
  readonly url: string;
  /**
   * Stops listening and drops every connection (calls being handled lose their replies);
   * resolves once the port is released. Idempotent: every call gets the first one's promise.
   */
  close(): Promise<void>;
}

/**
 * Starts a `KvServer` behind a `WsServer` it owns; resolves once the port is bound, and
 * rejects, leaving nothing running, if it cannot be.
 */
export async function listenKvServer(options: ListenKvServerOptions = {}): Promise<KvServerHandle> {
  const server = new KvServer(options);
  const rpc = new RpcServer({
    logger: options.logger,
    maxLogLinesPerSecond: options.maxLogLinesPerSecond,
    clock: options.clock,
  });
  server.register(rpc);
  const ws = await WsServer.listen({
    ...options,
    rpcServer: rpc,
    maxFrameBytes: options.maxFrameBytes ?? frameBytesFor(server.limits),
  });
  // `WsServer.close` is idempotent (one promise), so the handle's is too.
  return { server, ws, url: ws.url, close: () => ws.close() };
}

export interface ConnectClerkOptions
  extends ClerkOptions,
    Omit<WsClientOptions, 'url' | 'clock' | 'random' | 'callTimeoutMs'> {
  /** Per-attempt timeout (default 5 s): an attempt without a reply by then is resent. */
  readonly callTimeoutMs?: number;
}

/**
 * A clerk talking to a kvsrv server at `url` over its own WebSocket connection, which
 * reconnects by itself; `clerk.close()` closes it.
 */
export function connectClerk(url: string, options: ConnectClerkOptions = {}): Clerk {
  const client = new WsClient({
    ...options,
    url,
    maxFrameBytes: options.maxFrameBytes ?? frameBytesFor({}),
    callTimeoutMs: options.callTimeoutMs ?? 5000,
  });
  return new Clerk(client, {
    ...options,
    onClose: async () => {
      await client.close();
      await options.onClose?.();
    },
  });
}

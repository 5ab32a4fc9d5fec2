import { type ReconnectOptions, WsClient, type WsClientOptions } from './ws-client.js';

/**
 * Reconnect backoff for a server's client to another server of its cluster: 25 ms doubling to
 * at most 100 ms (each delay jittered in its upper half). A restarted peer is reached within
 * ~100 ms of listening again — one heartbeat at Raft's defaults — where the client's own
 * default (up to 5 s) can leave it unheard for seconds. A peer that stays down costs one
 * refused connect every 50–100 ms per client.
 */
export const PEER_RECONNECT: Readonly<Required<ReconnectOptions>> = Object.freeze({
  initialDelayMs: 25,
  maxDelayMs: 100,
});

/**
 * A peer call's timeout: about one election timeout at Raft's defaults (500–1,000 ms). A reply
 * later than that is stale, and the caller's retry is worth more than the wait.
 */
export const PEER_CALL_TIMEOUT_MS = 1000;

/**
 * A `WsClient` to a peer server, with `PEER_RECONNECT` and `PEER_CALL_TIMEOUT_MS` unless
 * `options` set `reconnect` or `callTimeoutMs`; everything else as `WsClient`.
 */
export function peerClient(url: string, options: Omit<WsClientOptions, 'url'> = {}): WsClient {
  return new WsClient({
    ...options,
    url,
    reconnect: options.reconnect ?? PEER_RECONNECT,
    callTimeoutMs: options.callTimeoutMs ?? PEER_CALL_TIMEOUT_MS,
  });
}

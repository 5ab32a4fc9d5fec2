import { type ReconnectOptions, WsClient, type WsClientOptions } from './ws-client.js';

/**
 * A clerk's reconnect backoff: 50 ms doubling to 1 s. A restarted replica is back in the
 * clerk's rotation within a second, without a storm of connects while it is down.
 */
export const CLERK_RECONNECT: ReconnectOptions = { initialDelayMs: 50, maxDelayMs: 1000 };

/**
 * One `WsClient` per url (in the same order), tuned for a clerk of a replicated service:
 * `CLERK_RECONNECT`, and `failWhileDown`, so a replica that is down answers `UNREACHABLE` at
 * once and the clerk tries the next one instead of waiting out its attempt timeout on a dead
 * server. `options` override both. The caller closes the clients (e.g. in its clerk's
 * `onClose`); check the urls first (`checkWsUrls`).
 */
export function connectEnds(
  urls: readonly string[],
  options: Omit<WsClientOptions, 'url'> = {},
): WsClient[] {
  return urls.map(
    (url) => new WsClient({ reconnect: CLERK_RECONNECT, failWhileDown: true, ...options, url }),
  );
}

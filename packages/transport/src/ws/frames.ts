import { describe } from '../codec.js';

/**
 * The wire protocol: one msgpack-encoded array per WebSocket binary message.
 *
 *   client → server   [HELLO, version, token, maxFrameBytes]   first frame on every connection
 *   server → client   [WELCOME, version, maxFrameBytes]
 *   client → server   [REQUEST, id, method, args]      id: positive integer, unique per connection
 *   server → client   [REPLY, id, reply]
 *   server → client   [ERROR, id, code, message]       id 0 when the request's id was unreadable
 *
 * Each side announces the largest frame it accepts (ws closes a connection on a larger one),
 * so a sender refuses an oversized request or reply itself instead of losing the connection
 * and, with it, every call in flight. The size is optional in both (older peers omit it).
 */
export const PROTOCOL_VERSION = 1;

export const FrameType = {
  HELLO: 0,
  WELCOME: 1,
  REQUEST: 2,
  REPLY: 3,
  ERROR: 4,
} as const;

/** Close codes (4000–4999 are the application's range). */
export const CloseCode = {
  /** The peer's hello was missing, malformed or of another protocol version. */
  PROTOCOL: 4400,
  /** The shared secret did not match. */
  AUTH_FAILED: 4401,
  /** No hello within the server's hello timeout. */
  HELLO_TIMEOUT: 4408,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** ws closes with this when a frame exceeds maxPayload. */
  TOO_BIG: 1009,
} as const;

export const MAX_METHOD_LENGTH = 256;

export interface RequestFrame {
  readonly id: number;
  readonly method: string;
  readonly args: unknown;
}

/** Reads a REQUEST; a string saying what is wrong when the frame is not one. */
export function parseRequest(frame: unknown): RequestFrame | string {
  if (!Array.isArray(frame) || frame.length !== 4) return 'frame is not a 4-element array';
  const [type, id, method, args] = frame as [unknown, unknown, unknown, unknown];
  if (type !== FrameType.REQUEST) return `unexpected frame type ${describe(type)}`;
  if (!isRequestId(id)) return 'request id is not a positive integer';
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_LENGTH) {
    return 'method is not a non-empty string of at most 256 characters';
  }
  return { id, method, args };
}

/** A frame limit announced by the peer, or undefined when absent or not a positive integer. */
export function announcedFrameLimit(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

export function isRequestId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0;
}

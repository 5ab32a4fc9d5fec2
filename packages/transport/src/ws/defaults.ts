/**
 * The WebSocket transport's defaults, in one place: the server and the client read them from
 * here, and the options' docs name them.
 */

/** Largest frame sent or accepted, either side (16 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Reply bytes (server) or request bytes (client) waiting to be written before reads or new calls pause (4 MiB). */
export const DEFAULT_HIGH_WATER_MARK_BYTES = 4 * 1024 * 1024;

/** A connection that has not said hello by then is closed (5 s). */
export const DEFAULT_HELLO_TIMEOUT_MS = 5000;

/** Calls of one connection handled at once before the server stops reading it. */
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 1024;

/** A call's timeout when it passes none (10 s). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** Calls held locally behind a full connection before new ones fail with `OVERLOADED`. */
export const DEFAULT_MAX_QUEUED_CALLS = 10_000;

/** The WebSocket opening handshake must finish within this (10 s). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Reconnect backoff: first delay, doubled per failed attempt up to the maximum, upper half jittered. */
export const DEFAULT_RECONNECT_INITIAL_DELAY_MS = 50;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 5000;

/**
 * Shape checks for values that come from outside the process: RPC arguments and replies,
 * decoded records, files. Small on purpose; a service composes its own `isArgs` from these
 * and hands it to `validated`.
 *
 * This module imports nothing, so packages that must not depend on the transport at run time
 * (raft, linearizability) bundle it from `@flotilla/transport/shape` at build time.
 */

/** A type guard: `true` only for values of type `T`. */
export type Guard<T> = (value: unknown) => value is T;

/** A non-null object that is not an array or a byte buffer: what msgpack decodes a map to. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}

/** A safe integer ≥ 0: an index, a term, a count, an id drawn from [0, 2^53). */
export function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A safe integer ≥ 1. */
export function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

/**
 * A record whose named fields each pass their check (fields not named are ignored; a missing
 * field is checked as `undefined`).
 */
export function hasFields(
  value: unknown,
  checks: { readonly [field: string]: (field: unknown) => boolean },
): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  for (const field in checks) {
    if (!checks[field]?.(value[field])) return false;
  }
  return true;
}

/**
 * The UTF-8 size of `s` when it exceeds `limit` bytes, else 0: a size check on a key or value
 * from outside. A UTF-16 unit is at most 3 UTF-8 bytes, so strings of up to `limit / 3` units
 * skip the O(n) count.
 */
export function utf8BytesOver(s: string, limit: number): number {
  if (s.length * 3 <= limit) return 0;
  const size = Buffer.byteLength(s);
  return size > limit ? size : 0;
}

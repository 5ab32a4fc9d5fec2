import { utf8BytesOver } from '@flotilla/transport';
import { KeyTooLargeError, ShardKvConfigError, ValueTooLargeError } from './errors.js';

/**
 * Size limits of one request, in UTF-8 bytes. A value is limited per Put or Append (each is
 * one log entry), not as it grows by appends.
 */
export interface KvLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

export const DEFAULT_MAX_KEY_BYTES = 4 * 1024;
/** As etcd's default request limit (1.5 MiB) keeps entries small enough to batch and replicate. */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

/** Room in a frame for everything but the key and value (ids, field names, envelope). */
const FRAME_OVERHEAD_BYTES = 64 * 1024;

/** `limits` with defaults filled in; a limit that is not a positive integer is `ShardKvConfigError`. */
export function kvLimits(limits: Partial<KvLimits> = {}): KvLimits {
  const checked = {
    maxKeyBytes: limits.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES,
    maxValueBytes: limits.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
  };
  for (const [name, value] of Object.entries(checked)) {
    if (!(Number.isSafeInteger(value) && value > 0))
      throw new ShardKvConfigError(name, `(${String(value)}) must be a positive integer`);
  }
  return checked;
}

/** The error for a key or value over `limits`, or undefined when both fit. */
export function oversize(limits: KvLimits, key: string, value = ''): Error | undefined {
  const keyBytes = utf8BytesOver(key, limits.maxKeyBytes);
  if (keyBytes > 0) return new KeyTooLargeError(keyBytes, limits.maxKeyBytes);
  const valueBytes = utf8BytesOver(value, limits.maxValueBytes);
  if (valueBytes > 0) return new ValueTooLargeError(valueBytes, limits.maxValueBytes);
  return undefined;
}

/** A frame size that fits the largest request under `limits` (a clerk's, a server's listener). */
export function frameBytesFor(limits: KvLimits): number {
  return limits.maxKeyBytes + limits.maxValueBytes + FRAME_OVERHEAD_BYTES;
}

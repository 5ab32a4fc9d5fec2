import type { LogEntry } from './messages.js';

/** Room per entry for its term, its framing and the AppendEntries envelope around it. */
const ENTRY_OVERHEAD_BYTES = 16;
/** Deeper than this, a command's parts are counted as one byte each (commands are not that deep). */
const MAX_DEPTH = 32;

const cache = new WeakMap<LogEntry, number>();

/**
 * About how many bytes `entry` takes in an AppendEntries on the wire (msgpack): strings by
 * their UTF-8 size, byte arrays by their length, numbers as 9, plus a small overhead per
 * value. It needs no encoder and is computed once per entry. It only has to be close enough
 * that a batch capped at `maxAppendBytes` stays under the transport's frame limit.
 */
export function entryBytes(entry: LogEntry): number {
  let bytes = cache.get(entry);
  if (bytes === undefined) {
    bytes = ENTRY_OVERHEAD_BYTES + valueBytes(entry.command, 0);
    cache.set(entry, bytes);
  }
  return bytes;
}

function valueBytes(value: unknown, depth: number): number {
  if (typeof value === 'string') return 5 + Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return 9;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return 1;
  if (value instanceof Uint8Array) return 5 + value.byteLength;
  let bytes = 5;
  if (Array.isArray(value)) {
    for (const item of value) bytes += valueBytes(item, depth + 1);
  } else if (value instanceof Map) {
    for (const [k, v] of value) bytes += valueBytes(k, depth + 1) + valueBytes(v, depth + 1);
  } else {
    for (const key in value) {
      bytes +=
        valueBytes(key, depth + 1) + valueBytes((value as Record<string, unknown>)[key], depth + 1);
    }
  }
  return bytes;
}

/**
 * How many of `entries` (from the first) one AppendEntries carries: as many as fit in
 * `maxBytes`, and always at least one, so an entry larger than the cap still goes (alone).
 */
export function fitBytes(entries: readonly LogEntry[], maxBytes: number): number {
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    total += entryBytes(entries[i] as LogEntry);
    if (total > maxBytes) return Math.max(1, i);
  }
  return entries.length;
}

import { NSHARDS } from '@flotilla/shardctrler';

/**
 * The lab's `key2shard`: the key's first byte (of its UTF-8 encoding) mod `NSHARDS`; 0 for the
 * empty key. Keys "0".."9" land on ten different shards.
 */
export function key2shard(key: string): number {
  const cp = key.codePointAt(0);
  if (cp === undefined) return 0;
  return firstUtf8Byte(cp) % NSHARDS;
}

function firstUtf8Byte(cp: number): number {
  // A lone surrogate crosses the wire as U+FFFD (EF BF BD): the server sees that key.
  if (cp >= 0xd800 && cp <= 0xdfff) return 0xef;
  if (cp < 0x80) return cp;
  if (cp < 0x800) return 0xc0 | (cp >> 6);
  if (cp < 0x10000) return 0xe0 | (cp >> 12);
  return 0xf0 | (cp >> 18);
}

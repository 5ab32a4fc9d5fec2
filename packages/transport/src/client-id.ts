import { randomBytes } from 'node:crypto';
import type { Random } from './random.js';

/**
 * A clerk id in [0, 2^53), rsm's (and kvsrv's) session `clientId`. Ids are drawn, not
 * assigned, so two clerks collide with probability ~ n² / 2^54 (1 in 1.8 million for 100,000
 * clerks); a service reports a collision when it shows (its `SessionConflictError`). Two
 * draws, because one `Random.int` holds 32 bits; without a `Random`, from the OS.
 */
export function drawClientId(random?: Pick<Random, 'int'>): number {
  if (random !== undefined) return random.int(2 ** 21) * 2 ** 32 + random.int(2 ** 32);
  const bytes = randomBytes(8);
  return (bytes.readUInt32BE(0) & 0x1fffff) * 2 ** 32 + bytes.readUInt32BE(4);
}

import { randomBytes } from 'node:crypto';
import type { Random } from '@flotilla/transport';

/**
 * A clerk id in [0, 2^53), rsm's session `clientId`. Ids are drawn, not assigned, so two clerks
 * collide with probability ~ n² / 2^54; a collision shows as `SessionConflictError`. Two draws,
 * because one `Random.int` holds 32 bits; without a `Random`, from the OS.
 */
export function drawClientId(random?: Random): number {
  if (random !== undefined) return random.int(2 ** 21) * 2 ** 32 + random.int(2 ** 32);
  const bytes = randomBytes(8);
  return (bytes.readUInt32BE(0) & 0x1fffff) * 2 ** 32 + bytes.readUInt32BE(4);
}

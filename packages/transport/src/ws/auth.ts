import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented token with the expected one in time independent of where they differ
 * and of their lengths: both are hashed to 32 bytes first, then compared with timingSafeEqual.
 */
export function tokenMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** The server's size limits, in UTF-8 bytes. */
export interface Limits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

export const DEFAULT_MAX_KEY_BYTES = 4 * 1024;
export const DEFAULT_MAX_VALUE_BYTES = 32 * 1024 * 1024;

/** The UTF-8 size of `a + b` when it exceeds `limit`, else 0 (without building `a + b`). */
export function concatSizeOver(a: string, b: string, limit: number): number {
  if ((a.length + b.length) * 3 <= limit) return 0;
  const size = Buffer.byteLength(a) + Buffer.byteLength(b);
  return size > limit ? size : 0;
}

export function checkLimits(limits: Limits): Limits {
  for (const [name, value] of Object.entries(limits)) {
    if (!(Number.isSafeInteger(value) && value > 0))
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return limits;
}

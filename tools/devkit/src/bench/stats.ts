/** Statistics of benchmark figures: rounding, medians over repeats, latency quantiles. */

/** `x` rounded to `digits` decimals. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * The median, ignoring NaN (a figure a run could not measure); the mean of the two middle
 * values for an even count; NaN when nothing is left.
 */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * The q-quantile of SORTED values, as ../shared/bench's ws-echo.mjs and etcd-load.mjs compute
 * it (the value at index ⌊q·n⌋, no interpolation), so our p50/p99 compare with theirs; NaN for
 * no values. A Float64Array sorted with `.sort()` will do.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

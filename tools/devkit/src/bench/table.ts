/** Formatting of benchmark figures and the Markdown tables the benches print. */

/** An integer with thousands separators (`12,345`); `n/a` for NaN. */
export function fmtInt(x: number): string {
  return Number.isNaN(x) ? 'n/a' : Math.round(x).toLocaleString('en-US');
}

/** Microseconds as `87 µs`, or `1.25 ms` from 1 ms on; `n/a` for NaN. */
export function fmtUs(x: number): string {
  if (Number.isNaN(x)) return 'n/a';
  return x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${Math.round(x)} µs`;
}

/** Milliseconds as `0.85 ms` (two decimals below 10 ms, one from there); `n/a` for NaN. */
export function fmtMs(x: number): string {
  if (Number.isNaN(x)) return 'n/a';
  return x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(1)} ms`;
}

/**
 * The lines of a Markdown table: `| a | b |`, `|---|---|`, then one line per row. Cells are
 * used as they are (escape any `|` in them first).
 */
export function markdownTable(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map(() => '---|').join('')}`, ...rows.map(line)];
}

/** Longest quoted string shown in a one-line description before it is elided. */
export const SHORT_STRING = 28;
const HEAD = 8;

/**
 * JSON-quotes a value for display, eliding the middle of long strings but keeping more of the
 * end, where appends land: `"x 0 0 yx…x 0 8 yx 0 9 y"`.
 */
export function quote(value: unknown, max = SHORT_STRING): string {
  if (typeof value !== 'string') {
    return value === undefined ? '?' : (JSON.stringify(value) ?? String(value));
  }
  if (value.length <= max) return JSON.stringify(value);
  return JSON.stringify(`${value.slice(0, HEAD)}…${value.slice(value.length - (max - HEAD - 1))}`);
}

const SNIPPET = 24;

function snippet(text: string, from: number): string {
  const start = Math.max(0, from);
  const end = Math.min(text.length, start + SNIPPET);
  return JSON.stringify(
    `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`,
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Where the value an operation saw departs from the actual value, in words. */
export function describeDifference(actual: string, seen: string): string | undefined {
  if (actual === seen) return undefined;
  let i = 0;
  while (i < actual.length && i < seen.length && actual[i] === seen[i]) i++;
  if (i === seen.length) {
    return `it is missing the value's last ${plural(actual.length - i, 'character')}: ${snippet(actual, i)}`;
  }
  if (i === actual.length) {
    return `it has ${plural(seen.length - i, 'character')} the value does not: ${snippet(seen, i)}`;
  }
  return `from character ${i} it saw ${snippet(seen, i - 6)} where the value has ${snippet(actual, i - 6)}`;
}

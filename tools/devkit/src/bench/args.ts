/** Parsing of the benches' command-line values (from node:util parseArgs, all strings). */

/** `1,64` → [1, 64]; throws unless every item is a positive integer. */
export function parseList(text: string, name: string): number[] {
  const xs = text.split(',').map(Number);
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x <= 0)) {
    throw new Error(`--${name} must be a comma-separated list of positive integers`);
  }
  return xs;
}

/** A positive finite number, or `fallback` when the option was not given. */
export function positive(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined && fallback !== undefined) return fallback;
  const x = Number(text);
  if (!(Number.isFinite(x) && x > 0)) throw new Error(`--${name} must be a positive number`);
  return x;
}

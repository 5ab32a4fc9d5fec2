import type { Options } from 'tsup';

/**
 * The build every package shares: ESM + CJS + `.d.ts` of `src/index.ts` for Node 20.
 * `overrides` replace fields (e.g. more entries, or a narrower `clean` when a package has a
 * second build writing into the same `dist/`).
 */
export function libraryBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    // With "type": "module", tsup already emits ESM as .js and CJS as .cjs (and
    // index.d.ts / index.d.cts); spelling it out keeps the exports map honest.
    outExtension({ format }) {
      return { js: format === 'cjs' ? '.cjs' : '.js' };
    },
    ...overrides,
  };
}

/** A package's bin: ESM only (top-level await), no types (nothing imports it). */
export function binBuild(entry: string, overrides: Options = {}): Options {
  return {
    entry: [entry],
    format: ['esm'],
    dts: false,
    sourcemap: true,
    target: 'node20',
    ...overrides,
  };
}

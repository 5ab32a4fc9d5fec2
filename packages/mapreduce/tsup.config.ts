import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The two builds run at once: each cleans dist/ except the other's files.
    clean: ['!cli.*', '!cli-main-*', '!chunk-*'],
    target: 'node20',
    // With "type": "module", tsup already emits ESM as .js and CJS as .cjs (and
    // index.d.ts / index.d.cts); spelling it out keeps the exports map honest.
    outExtension({ format }) {
      return { js: format === 'cjs' ? '.cjs' : '.js' };
    },
  },
  {
    // The `flotilla-mapreduce` bin: ESM only, no types (nothing imports it). Split: cli.js is
    // small and loads the rest (cli-main-*.js, with the RPC stack) only after `run` has
    // started its workers (see src/cli-early.ts).
    entry: ['src/cli.ts'],
    format: ['esm'],
    splitting: true,
    dts: false,
    sourcemap: true,
    clean: ['!index.*'],
    target: 'node20',
  },
]);

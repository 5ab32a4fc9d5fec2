import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The two builds run at once: each cleans dist/ except the other's files.
    clean: ['!cli.*', '!chunk-*'],
    target: 'node20',
    // With "type": "module", tsup already emits ESM as .js and CJS as .cjs (and
    // index.d.ts / index.d.cts); spelling it out keeps the exports map honest.
    outExtension({ format }) {
      return { js: format === 'cjs' ? '.cjs' : '.js' };
    },
  },
  {
    // The `flotilla-kvsrv` bin: ESM only (top-level await), no types (nothing imports it).
    entry: ['src/cli.ts'],
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: ['!index.*'],
    target: 'node20',
  },
]);

import { defineConfig } from 'tsup';

export default defineConfig({
  // cli.ts is the `flotilla-lincheck` bin; its hashbang survives bundling, and it shares chunks
  // with index.ts in the ESM build.
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // With "type": "module", tsup already emits ESM as .js and CJS as .cjs (and
  // index.d.ts / index.d.cts); spelling it out keeps the exports map honest.
  outExtension({ format }) {
    return { js: format === 'cjs' ? '.cjs' : '.js' };
  },
});

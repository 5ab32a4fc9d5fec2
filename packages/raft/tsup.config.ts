import { defineConfig } from 'tsup';

export default defineConfig({
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
});

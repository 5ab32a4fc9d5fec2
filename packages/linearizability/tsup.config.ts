import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared.js';

export default defineConfig(
  libraryBuild({
    // cli.ts is the `flotilla-lincheck` bin; its hashbang survives bundling, and it shares
    // chunks with index.ts in the ESM build.
    entry: ['src/index.ts', 'src/cli.ts'],
    dts: { entry: 'src/index.ts' },
  }),
);

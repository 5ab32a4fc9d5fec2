import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared.js';

export default defineConfig(
  libraryBuild({
    // shape.ts is also the `./shape` subpath: it imports nothing, so raft and
    // linearizability bundle it without taking the transport (ws, msgpackr) as a dependency.
    entry: ['src/index.ts', 'src/shape.ts'],
  }),
);

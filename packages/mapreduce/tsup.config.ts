import { defineConfig } from 'tsup';
import { binBuild, libraryBuild } from '../../tsup.shared.js';

export default defineConfig([
  // The two builds run at once: each cleans dist/ except the other's files.
  libraryBuild({ clean: ['!cli.*', '!cli-main-*', '!chunk-*'] }),
  // The `flotilla-mapreduce` bin. Split: cli.js is small and loads the rest (cli-main-*.js,
  // with the RPC stack) only after `run` has started its workers (see src/cli-early.ts).
  binBuild('src/cli.ts', {
    splitting: true,
    clean: ['!index.*'],
    // The RPC stack is bundled in: every worker is a new process, and loading it as packages
    // was most of a worker's start-up. `ws` is CommonJS behind an ESM wrapper, so Node ran
    // its CommonJS export scanner over each of its files, and resolved and compiled ~30
    // modules one by one. Measured: a worker's start-up 0.12 s → 0.08 s, and 0.20 s → 0.10 s
    // with `--single-threaded` (see the README's Benchmark section). The library build (above)
    // keeps them as dependencies.
    noExternal: ['@flotilla/transport', 'ws', 'msgpackr'],
    // Optional native add-ons those probe for with require() at load, inside try/catch.
    external: ['bufferutil', 'utf-8-validate', 'msgpackr-extract'],
    // Bundled CommonJS code calls require() (Node built-ins, the probes above).
    banner: {
      js: "import { createRequire as __cliCreateRequire } from 'node:module'; const require = __cliCreateRequire(import.meta.url);",
    },
  }),
]);

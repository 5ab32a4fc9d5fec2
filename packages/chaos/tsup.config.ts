import { defineConfig } from 'tsup';
import { binBuild, libraryBuild } from '../../tsup.shared.js';

export default defineConfig([
  // The two builds run at once: each cleans dist/ except the other's files.
  libraryBuild({ clean: ['!cli.*', '!chunk-*'] }),
  // The `flotilla-chaos` bin.
  binBuild('src/cli.ts', { clean: ['!index.*'] }),
]);

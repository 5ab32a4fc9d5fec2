import { fileURLToPath } from 'node:url';

/**
 * Tests import sibling packages from their sources, so `pnpm test` needs no build first and a
 * change in one package is seen at once by the tests of the packages that use it. The dev-only
 * helpers of tools/devkit and tools/labkit have no build at all: `@flotilla/devkit/bench/stats` is
 * tools/devkit/src/bench/stats.ts (as its package.json exports say, for tsx and tsc).
 */
export const workspaceAliases: Record<string, string> = {
  // Before '@flotilla/transport': an alias also matches the subpaths under its key.
  '@flotilla/transport/shape': fileURLToPath(
    new URL('./packages/transport/src/shape.ts', import.meta.url),
  ),
  ...Object.fromEntries(
    [
      'transport',
      'raft',
      'rsm',
      'linearizability',
      'mapreduce',
      'kvsrv',
      'kvraft',
      'shardctrler',
      'shardkv',
      'chaos',
    ].map((name) => [
      `@flotilla/${name}`,
      fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url)),
    ]),
  ),
  '@flotilla/devkit': fileURLToPath(new URL('./tools/devkit/src', import.meta.url)),
  // `@flotilla/labkit` is src/index.ts; `@flotilla/labkit/<module>` is src/<module>.ts.
  '@flotilla/labkit': fileURLToPath(new URL('./tools/labkit/src', import.meta.url)),
};

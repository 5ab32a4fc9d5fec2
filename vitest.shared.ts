import { fileURLToPath } from 'node:url';

/**
 * Tests import sibling packages from their sources, so `pnpm test` needs no build first and a
 * change in one package is seen at once by the tests of the packages that use it.
 */
export const workspaceAliases: Record<string, string> = Object.fromEntries(
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
  ].map((name) => [
    `@flotilla/${name}`,
    fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url)),
  ]),
);

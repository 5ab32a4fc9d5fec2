import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory (this file is tools/devkit/src/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Where the reference benchmarks live (ws-echo.mjs, etcd-load.mjs, wordcount.mjs, …): the
 * `shared/bench` directory beside the repository. Optional: every bench runs without it, with
 * fewer comparisons.
 */
export const SHARED_BENCH_DIR = path.resolve(REPO_ROOT, '../shared/bench');

/**
 * Runs the 14 lab tests (Lab 5A, 5B and both challenges) (../lab/scenarios.ts) over many seeds:
 *
 *   pnpm --filter @flotilla/shardkv stress --seeds 200 [--only Name[,Name…]] [--jobs 2]
 *                                          [--from 1] [--timeout-ms 120000]
 *
 * The runner is @flotilla/devkit's (stress/run-stress.ts: what the flags do and what it
 * prints). Replay a failure with `FLOTILLA_SEED=<seed> pnpm vitest run --project shardkv -t <Name>`.
 */
import { stressMain } from '@flotilla/devkit/stress/run-stress';

stressMain(new URL('../lab/scenarios.ts', import.meta.url));

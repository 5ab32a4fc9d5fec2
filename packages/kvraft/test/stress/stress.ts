/**
 * Runs the 23 lab tests (../lab/scenarios.ts) over many seeds:
 *
 *   pnpm --filter @flotilla/kvraft stress --seeds 200 [--only Name[,Name…]] [--jobs 2]
 *                                         [--from 1] [--timeout-ms 120000]
 *
 * The runner is @flotilla/devkit's (stress/run-stress.ts: what the flags do and what it
 * prints). Replay a failure with `FLOTILLA_SEED=<seed> pnpm vitest run --project kvraft -t <Name>`.
 */
import { stressMain } from '@flotilla/devkit/stress/run-stress';

stressMain(new URL('../lab/scenarios.ts', import.meta.url));

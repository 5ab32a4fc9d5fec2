/**
 * Runs the lab scenarios (../lab/scenarios.ts) over many seeds:
 *
 *   pnpm --filter @flotilla/raft stress --seeds 500 [--only Name[,Name…]] [--jobs 2]
 *                                       [--from 1] [--timeout-ms 120000]
 *
 * The runner is @flotilla/devkit's (stress/run-stress.ts: what the flags do and what it
 * prints). Replay a failure with `FLOTILLA_SEED=<seed> npx vitest run --project raft -t <Name>`.
 */
import { stressMain } from '@flotilla/devkit/stress/run-stress';

stressMain(new URL('../lab/scenarios.ts', import.meta.url));

/**
 * Runs the lab tests (../lab/scenarios.ts) over many seeds:
 *
 *   pnpm --filter @flotilla/shardctrler stress --seeds 200 [--only Name[,Name…]] [--jobs 2]
 *
 * The runner is @flotilla/devkit's (stress/run-stress.ts). Replay a failure with
 * `FLOTILLA_SEED=<seed> pnpm vitest run --project shardctrler -t <Name>`.
 */
import { stressMain } from '@flotilla/devkit/stress/run-stress';

stressMain(new URL('../lab/scenarios.ts', import.meta.url));

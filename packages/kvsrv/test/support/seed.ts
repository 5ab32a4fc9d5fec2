import { chooseSeed } from '@flotilla/transport';

/**
 * The seed of the fuzz and property tests: fixed, so a plain run is the same run every time;
 * `FLOTILLA_SEED=<n>` (the one seed variable of every Flotilla test) explores other inputs.
 */
export const FUZZ_SEED = chooseSeed(20_240_212);

import { within } from '@flotilla/devkit/time/within';
import { afterEach } from 'vitest';

/**
 * What the current test started and must stop, run in reverse order after each test of the
 * file that imports this (each bounded to 5 s, so one stuck close cannot hang the suite).
 */
export const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await within(Promise.resolve(cleanup()), 5000, 'a cleanup').catch((err: unknown) => {
      console.error(err);
    });
  }
});

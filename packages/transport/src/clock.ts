import { performance } from 'node:perf_hooks';

/** An opaque timer returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

/**
 * Time as every Flotilla component sees it. Production passes `realClock`; simulations pass a
 * `VirtualClock`, so the same code runs in virtual time and replays from a seed.
 */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(timer: TimerHandle): void;
}

export const realClock: Clock = {
  now: () => performance.now(), // determinism: allowed (the real clock)
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs), // determinism: allowed (the real clock)
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on the given clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}

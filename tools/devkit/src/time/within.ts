/**
 * Waiting in real time, bounded: for tests and benchmarks only (the packages' sources take a
 * Clock instead). Never sleep as an assertion: wait for a condition, with a deadline.
 */
import { performance } from 'node:perf_hooks';

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Rejects with a descriptive error if `promise` has not settled within `timeoutMs`. The timer
 * is cleared either way, so it never keeps the process alive.
 */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Calls `check` every `everyMs` (default 10) until it returns something other than
 * undefined, and returns that; throws "timed out after … ms waiting for <what>" once
 * `timeoutMs` has passed. `check` may be async; it is always called at least once.
 */
export async function poll<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  options: { readonly timeoutMs: number; readonly everyMs?: number },
): Promise<T> {
  const { timeoutMs, everyMs = 10 } = options;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(everyMs);
  }
}

/** V8 CPU profiles of a bench's processes (diagnosis only: profiling slows every figure down). */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Node options that profile a child process for its whole life, written into `dir` when it
 * exits normally (none when `dir` is undefined). V8's default interval, 1 ms, is too coarse
 * for µs-scale calls: hence `intervalUs`.
 */
export function cpuProfArgs(dir: string | undefined, intervalUs = 100): string[] {
  return dir === undefined
    ? []
    : ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', String(intervalUs)];
}

/**
 * A V8 CPU profile of THIS process over a window of its choosing (e.g. the measured loop only,
 * startup and warmup excluded): `start()`, then `stop(file, meta)` writes `<file>.cpuprofile`,
 * and `<file>.meta.json` beside it when `meta` is given (e.g. the commits in the window, which
 * raft's bench-profile.ts reads to print µs per commit).
 */
export class WindowProfiler {
  #session: Session | undefined;

  async start(intervalUs = 200): Promise<void> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    this.#session = session;
  }

  /** Writes the profile (nothing if not started). */
  async stop(file: string, meta?: Record<string, unknown>): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(`${file}.cpuprofile`, JSON.stringify(profile));
    if (meta !== undefined) writeFileSync(`${file}.meta.json`, JSON.stringify(meta));
  }
}

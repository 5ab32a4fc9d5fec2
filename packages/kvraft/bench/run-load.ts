/**
 * One point of kv-bench.ts: a closed-loop load process (`flotilla-kvraft bench --json` or
 * `etcd-load.mjs --json`, the same fields) against a running cluster, with the three server
 * processes' CPU sampled from /proc meanwhile. The load prints its JSON line as soon as its
 * measured window ends, so the samplers stop on that line and their last `seconds` (the
 * window the load reports) are the servers' CPU during the measured ops: the preload and
 * warmup before it, and the load's shutdown after it, are left out.
 */
import { spawn } from 'node:child_process';
import { ProcSampler } from '@flotilla/devkit/bench/procstat';
import { track, waitExit } from '@flotilla/devkit/proc/child';
import type { LoadReport } from '../src/load.js';

/** etcd-load.mjs's `--json` line, which `flotilla-kvraft bench --json` prints too (its fields). */
export type LoadLine = LoadReport;

export interface LoadResult {
  readonly line: LoadLine;
  /** CPU time of each server over the measured window, µs (NaN: /proc could not tell). */
  readonly serverMicros: readonly number[];
}

/** Sampling period of the servers' /proc stat (its resolution is 10 ms anyway). */
const SAMPLE_MS = 25;

/**
 * Runs `node <args>` to its end. `budgetMs` bounds it (the load's own --max-seconds bounds only
 * its measured phase; a kvraft clerk retries an unreachable cluster forever): past it, SIGKILL
 * and reject. Rejects too when it prints no JSON line; a load that ran but counted errors
 * resolves (errors are part of its result).
 */
export function runLoad(options: {
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly serverPids: readonly number[];
  readonly budgetMs: number;
  readonly what: string;
  /** Called the moment the measured window has ended (the JSON line arrived). */
  readonly onWindowEnd?: () => void;
  /** Races the load: e.g. a server dying. */
  readonly failed?: Promise<never>;
}): Promise<LoadResult> {
  const child = track(
    spawn(process.execPath, [...options.args], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const samplers = options.serverPids.map(
    (pid) => new ProcSampler(() => [child.pid, pid], SAMPLE_MS),
  );
  const stopSamplers = (): void => {
    for (const s of samplers) s.stop();
  };
  let stdout = '';
  let stderr = '';
  let line: LoadLine | undefined;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < 64 * 1024) stderr += chunk;
  });
  child.stdout?.setEncoding('utf8');
  const done = new Promise<LoadResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.what} did not finish within ${options.budgetMs} ms`));
    }, options.budgetMs);
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      if (line !== undefined) return;
      // Complete lines only (the last piece may still be arriving).
      const json = stdout
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith('{'));
      if (json === undefined) return;
      // The window is over: sample once more and stop, before anything else runs.
      stopSamplers();
      options.onWindowEnd?.();
      try {
        line = JSON.parse(json) as LoadLine;
      } catch (err) {
        reject(err);
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      stopSamplers();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      stopSamplers();
      if (line === undefined) {
        reject(
          new Error(
            `${options.what} exited (${code ?? signal}) without a result:\n${stdout}${stderr}`,
          ),
        );
        return;
      }
      const seconds = line.seconds;
      resolve({ line, serverMicros: samplers.map((s) => s.window(seconds).serverMicros) });
    });
  });
  if (options.failed === undefined) return done;
  done.catch(() => {}); // if a server fails first, the load's own end does not matter
  return Promise.race([done, options.failed]).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await waitExit(child, 5000);
    throw err;
  });
}

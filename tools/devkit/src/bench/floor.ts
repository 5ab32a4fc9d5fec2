/**
 * The floor of our WebSocket benches: ../shared/bench/ws-echo.mjs (beside the repository), a
 * raw ws + msgpackr echo between two Node processes, run in the same bench run as ours so the
 * two are compared on the same machine at the same time. The script is optional: without it
 * (no ../shared, or --no-floor) a bench prints its own figures alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../paths.js';
import { track } from '../proc/child.js';

/** Where the floor script is, relative to the repository root. */
export const FLOOR_SCRIPT = '../shared/bench/ws-echo.mjs';

/** One in-flight level of a ws-echo.mjs run: the JSON line `--json` prints for it. */
export interface FloorLine {
  readonly inflight: number;
  readonly n: number;
  readonly req_bytes: number;
  readonly seconds: number;
  readonly rtt_per_s: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly client_cpu_pct: number;
}

export type FoundFloor =
  | { readonly found: true; readonly path: string }
  /** `why`: "floor skipped (--no-floor)" or "floor not found at <path>". */
  | { readonly found: false; readonly path: string; readonly why: string };

/**
 * The floor script to run: `option` (--floor PATH, resolved from the repository root) or
 * FLOOR_SCRIPT; not found when `skip` (--no-floor) or when the file is missing.
 */
export function findFloor(option: string | undefined, skip: boolean): FoundFloor {
  const floorPath = path.resolve(REPO_ROOT, option ?? FLOOR_SCRIPT);
  if (skip) return { found: false, path: floorPath, why: 'floor skipped (--no-floor)' };
  if (!existsSync(floorPath)) {
    return { found: false, path: floorPath, why: `floor not found at ${floorPath}` };
  }
  return { found: true, path: floorPath };
}

export interface FloorRun {
  readonly floorPath: string;
  /** Where ws and msgpackr resolve from (pnpm does not hoist them): packages/transport. */
  readonly modulesDir: string;
  /** One closed loop per level, `inflight` requests outstanding on ONE connection. */
  readonly inflight: readonly number[];
  /** Round trips per level (the last one repeats for the remaining levels). */
  readonly n: readonly number[];
  /** Bounds each level's loop. */
  readonly maxSeconds: number;
  /** SIGKILLs the run (and rejects) past this. */
  readonly budgetMs: number;
  /** Node options of the floor's client process, e.g. cpuProfArgs(dir). */
  readonly nodeArgs?: readonly string[];
  /** Called with the client process once started (to sample it and the server it forks). */
  readonly onStart?: (child: ChildProcess) => void;
}

/**
 * Runs ws-echo.mjs (a separate Node process that forks its own server) and resolves with one
 * line per in-flight level; rejects if it fails, prints no result for a level, or runs past
 * its budget. Its stderr goes to ours.
 */
export function runFloor(run: FloorRun): Promise<FloorLine[]> {
  const args = [
    ...(run.nodeArgs ?? []),
    run.floorPath,
    '--inflight',
    run.inflight.join(','),
    '--n',
    run.n.join(','),
    '--max-seconds',
    String(run.maxSeconds),
    '--json',
  ];
  const child = track(
    spawn(process.execPath, args, {
      cwd: run.modulesDir,
      env: { ...process.env, BENCH_NODE_MODULES_DIR: run.modulesDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  run.onStart?.(child);
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`floor did not finish within ${run.budgetMs} ms`));
    }, run.budgetMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    const finish = (): void => {
      let lines: FloorLine[];
      try {
        lines = stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as FloorLine);
      } catch (err) {
        reject(err);
        return;
      }
      const missing = run.inflight.filter((c) => !lines.some((r) => r.inflight === c));
      if (missing.length > 0)
        reject(new Error(`floor printed no result for ${missing}: ${stdout}`));
      else resolve(lines);
    };
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`floor exited with ${code ?? signal}`));
      // Its last lines may still be in the pipe. The server it forks shares that pipe, so do
      // not wait long for it to close.
      const stream = child.stdout;
      if (stream === null || stream.readableEnded) {
        finish();
        return;
      }
      const grace = setTimeout(finish, 1000);
      stream.once('end', () => {
        clearTimeout(grace);
        finish();
      });
    });
  });
}

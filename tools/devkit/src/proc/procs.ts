/**
 * Processes a test starts and must stop: each with its output captured, a time limit (SIGKILL
 * past it, marked `timedOut`), and an `exited` promise that resolves once its output has been
 * read to the end. A `Procs` remembers what it started so that an afterEach can kill it all by
 * pid (`killAll`), whatever the test did.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { sleep } from '../time/within.js';
import { track } from './child.js';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Killed by the harness for running past its limit. */
  readonly timedOut: boolean;
  /** From the spawn to the process's exit. */
  readonly ms: number;
}

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the process has exited and its stdout and stderr have been read. */
  readonly exited: Promise<Exit>;
  /** False from the process's exit on. */
  readonly running: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnOptions {
  readonly cwd?: string;
  /** The whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** SIGKILL and mark `timedOut` past this (default 20 s; Infinity: no limit). */
  readonly limitMs?: number;
  /** 'ignore' leaves stdout unread (`Proc.stdout` stays empty); default 'pipe'. */
  readonly stdout?: 'pipe' | 'ignore';
}

export interface Finished extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * After the exit, how long to wait for stdout and stderr to close: a grandchild that inherited
 * them could hold them open forever, and `exited` must not hang on it.
 */
const CLOSE_GRACE_MS = 2000;

/** Starts `command args` with stdout and stderr captured (see the module's comment). */
export function spawnProc(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Proc {
  const started = performance.now();
  const child = track(
    spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
    }),
  );
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  let stdout = '';
  let stderr = '';
  let running = true;
  let timedOut = false;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const limitMs = options.limitMs ?? 20_000;
  const limit = Number.isFinite(limitMs)
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, limitMs)
    : undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      clearTimeout(limit);
      const exit: Exit = { code, signal, timedOut, ms: performance.now() - started };
      // 'close' comes once stdout and stderr have been read to the end.
      const grace = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(exit);
      }, CLOSE_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        resolve(exit);
      });
    });
  });
  return {
    name,
    pid: child.pid,
    child,
    exited,
    get running() {
      return running;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

/** Runs `command args` to its end; resolves with its exit and output, whatever the exit code. */
export async function runToEnd(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<Finished> {
  const proc = spawnProc(command, command, args, options);
  const exit = await proc.exited;
  return { ...exit, stdout: proc.stdout, stderr: proc.stderr };
}

/** What a test started; `killAll()` in afterEach. */
export class Procs {
  readonly #all: Proc[] = [];

  /** Starts `command args` (see spawnProc) and remembers it. */
  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Proc {
    const proc = spawnProc(name, command, args, options);
    this.#all.push(proc);
    return proc;
  }

  /** Everything started since the last killAll. */
  get all(): readonly Proc[] {
    return this.#all;
  }

  /** Sends `signal` to `proc` by pid and waits for it to exit. */
  async stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    signalPid(proc, signal);
    return proc.exited;
  }

  /** SIGKILLs every process still running, by pid, and waits for them to be gone. */
  async killAll(): Promise<void> {
    for (const proc of this.#all) signalPid(proc, 'SIGKILL');
    await Promise.all(this.#all.map((proc) => proc.exited));
    this.#all.length = 0;
  }
}

function signalPid(proc: Proc, signal: NodeJS.Signals): void {
  if (!proc.running) return;
  try {
    process.kill(proc.pid, signal);
  } catch {
    // Already gone between the check and the kill.
  }
}

/**
 * Polls `proc`'s stdout every `everyMs` (default 10) until `find` returns something other than
 * undefined (e.g. the URL of a "listening ws://…" line), and returns it. Throws, with what the
 * process printed, if it exits first or `timeoutMs` passes; `what` names the awaited output.
 */
export async function waitForOutput<T>(
  proc: Proc,
  find: (stdout: string) => T | undefined,
  options: { readonly what: string; readonly timeoutMs: number; readonly everyMs?: number },
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const found = find(proc.stdout);
    if (found !== undefined) return found;
    if (!proc.running) {
      // It may have printed the line just before exiting: look again once all is read.
      await proc.exited;
      const last = find(proc.stdout);
      if (last !== undefined) return last;
      throw new Error(
        `${proc.name} exited before printing ${options.what}:\n${proc.stdout}\n${proc.stderr}`,
      );
    }
    if (performance.now() > deadline) {
      throw new Error(`${proc.name} did not print ${options.what} within ${options.timeoutMs} ms`);
    }
    await sleep(options.everyMs ?? 10);
  }
}

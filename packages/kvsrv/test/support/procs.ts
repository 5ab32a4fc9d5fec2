import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/**
 * Real `flotilla-kvsrv` processes for the process-level tests: the built bin (dist/cli.js, as
 * a user runs it), one node process per server or clerk command, each with a time limit.
 * `ensureBuilt()` (in a beforeAll) rebuilds dist when it is missing or older than the sources.
 * Every test kills what it started, by pid, in afterEach (`Procs.killAll`).
 */

export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const REPO_ROOT = join(PACKAGE_DIR, '../..');
export const CLI_JS = join(PACKAGE_DIR, 'dist/cli.js');
const TRANSPORT_DIR = join(REPO_ROOT, 'packages/transport');

/** A package whose dist is built from its src (dist/cli.js imports @flotilla/transport's dist). */
interface Build {
  readonly filter: string;
  readonly inputs: readonly string[];
  readonly output: string;
}

const BUILDS: readonly Build[] = [
  {
    filter: '@flotilla/transport',
    inputs: [join(TRANSPORT_DIR, 'src'), join(TRANSPORT_DIR, 'tsup.config.ts')],
    output: join(TRANSPORT_DIR, 'dist/index.js'),
  },
  {
    filter: '@flotilla/kvsrv',
    inputs: [join(PACKAGE_DIR, 'src'), join(PACKAGE_DIR, 'tsup.config.ts')],
    output: CLI_JS,
  },
];

async function newestMtime(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) {
    newest = Math.max(newest, await newestMtime(join(path, entry)));
  }
  return newest;
}

async function isStale(build: Build): Promise<boolean> {
  const output = await stat(build.output).catch(() => undefined);
  if (output === undefined) return true;
  for (const input of build.inputs) {
    if ((await newestMtime(input)) > output.mtimeMs) return true;
  }
  return false;
}

function run(command: string, args: readonly string[], cwd: string, limitMs: number) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', (err) => {
      clearTimeout(limit);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}):\n${output}`));
    });
  });
}

/** Held while building, so test files running in parallel workers never build at once. */
const LOCK_DIR = join(tmpdir(), 'flotilla-kvsrv-test-build.lock');
const STALE_LOCK_MS = 180_000;

async function withBuildLock<T>(body: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + STALE_LOCK_MS;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await stat(LOCK_DIR).catch(() => undefined);
      // A lock left by a killed run: take it over.
      if (info !== undefined && Date.now() - info.mtimeMs > STALE_LOCK_MS) {
        await rm(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      if (performance.now() > deadline) throw new Error(`build lock ${LOCK_DIR} is held`);
      await sleep(100);
    }
  }
  try {
    return await body();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

/**
 * Builds @flotilla/transport and @flotilla/kvsrv (`pnpm --filter … build`) if their dist is
 * missing or older than their sources. Returns the packages it built.
 */
export async function ensureBuilt(): Promise<string[]> {
  const built: string[] = [];
  if (!(await Promise.all(BUILDS.map(isStale))).some(Boolean)) return built;
  await withBuildLock(async () => {
    // Checked again under the lock: another test file may have just built.
    for (const build of BUILDS) {
      if (!(await isStale(build))) continue;
      await run('pnpm', ['--filter', build.filter, 'build'], REPO_ROOT, 120_000);
      built.push(build.filter);
    }
  });
  return built;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Killed by the harness for running past its limit. */
  readonly timedOut: boolean;
  readonly ms: number;
}

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly running: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface StartOptions {
  /** SIGKILL and mark `timedOut` past this. */
  readonly limitMs?: number;
  /**
   * Environment on top of this process's, which loses FLOTILLA_AUTH_TOKEN first so that only
   * a test that sets it has it.
   */
  readonly env?: Record<string, string>;
}

export interface Finished extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

export class Procs {
  readonly #all: Proc[] = [];

  /** Starts `node dist/cli.js <args>`. */
  start(name: string, args: readonly string[], options: StartOptions = {}): Proc {
    const started = performance.now();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.FLOTILLA_AUTH_TOKEN;
    const child = spawn(process.execPath, [CLI_JS, ...args], {
      cwd: PACKAGE_DIR,
      env: { ...env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
    const limit = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.limitMs ?? 20_000);
    const exited = new Promise<Exit>((resolve) => {
      // 'close', not 'exit': by then stdout and stderr have been read to the end.
      child.on('close', (code, signal) => {
        running = false;
        clearTimeout(limit);
        resolve({ code, signal, timedOut, ms: performance.now() - started });
      });
    });
    const proc: Proc = {
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
    this.#all.push(proc);
    return proc;
  }

  /** Runs a one-shot command (`get`, `put`, …) to its end. */
  async run(args: readonly string[], options: StartOptions = {}): Promise<Finished> {
    const proc = this.start(args[0] ?? 'cli', args, { limitMs: 10_000, ...options });
    const exit = await proc.exited;
    return { ...exit, stdout: proc.stdout, stderr: proc.stderr };
  }

  /** Starts `serve --listen 127.0.0.1:0 <args>` and waits for its "listening <url>" line. */
  async serve(
    args: readonly string[],
    options: StartOptions = {},
  ): Promise<{ proc: Proc; url: string }> {
    const proc = this.start('serve', ['serve', '--listen', '127.0.0.1:0', ...args], options);
    return { proc, url: await listeningUrl(proc) };
  }

  /** Sends `signal` to `proc` by pid and waits for it to exit. */
  async stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (proc.running) process.kill(proc.pid, signal);
    return proc.exited;
  }

  /** SIGKILLs every process still running, by pid, and waits for them to be gone. */
  async killAll(): Promise<void> {
    for (const proc of this.#all) {
      if (proc.running) {
        try {
          process.kill(proc.pid, 'SIGKILL');
        } catch {
          // Already gone between the check and the kill.
        }
      }
    }
    await Promise.all(this.#all.map((proc) => proc.exited));
    this.#all.length = 0;
  }
}

const LISTENING = /^listening (ws:\/\/\S+)$/m;

/** Waits for the server's `listening ws://host:port` line; returns the URL. */
export async function listeningUrl(server: Proc, timeoutMs = 10_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const match = LISTENING.exec(server.stdout);
    if (match?.[1] !== undefined) return match[1];
    if (!server.running) {
      throw new Error(`server exited before listening:\n${server.stdout}\n${server.stderr}`);
    }
    if (performance.now() > deadline) {
      throw new Error(`server did not print "listening <url>" within ${timeoutMs} ms`);
    }
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with a descriptive error if `promise` has not settled within `timeoutMs`. */
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

import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  Procs as BaseProcs,
  type Exit,
  type Finished,
  type Proc,
  runToEnd,
  waitForOutput,
} from '@flotilla/devkit/proc/procs';
import { sleep } from '@flotilla/devkit/time/within';

/**
 * Real `flotilla-kvsrv` processes for the process-level tests: the built bin (dist/cli.js, as
 * a user runs it), one node process per server or clerk command, each with a time limit.
 * `ensureBuilt()` (in a beforeAll) rebuilds dist when it is missing or older than the sources.
 * Every test kills what it started, by pid, in afterEach (`Procs.killAll`). The process
 * plumbing is @flotilla/devkit's.
 */

export { sleep, within } from '@flotilla/devkit/time/within';
export type { Exit, Finished, Proc };

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

async function run(command: string, args: readonly string[], cwd: string, limitMs: number) {
  const r = await runToEnd(command, args, { cwd, limitMs });
  if (r.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${r.code ?? r.signal}):\n${r.stdout}${r.stderr}`,
    );
  }
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

export interface StartOptions {
  /** SIGKILL and mark `timedOut` past this. */
  readonly limitMs?: number;
  /**
   * Environment on top of this process's, which loses FLOTILLA_AUTH_TOKEN first so that only
   * a test that sets it has it.
   */
  readonly env?: Record<string, string>;
}

/** The CLI's processes (stop, killAll: devkit's Procs). */
export class Procs extends BaseProcs {
  /** Starts `node dist/cli.js <args>`. */
  start(name: string, args: readonly string[], options: StartOptions = {}): Proc {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.FLOTILLA_AUTH_TOKEN;
    return this.spawn(name, process.execPath, [CLI_JS, ...args], {
      cwd: PACKAGE_DIR,
      env: { ...env, ...options.env },
      limitMs: options.limitMs ?? 20_000,
    });
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
}

const LISTENING = /^listening (ws:\/\/\S+)$/m;

/** Waits for the server's `listening ws://host:port` line; returns the URL. */
export function listeningUrl(server: Proc, timeoutMs = 10_000): Promise<string> {
  return waitForOutput(server, (stdout) => LISTENING.exec(stdout)?.[1], {
    what: '"listening <url>"',
    timeoutMs,
  });
}

import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Real processes for the lab's script: the CLI's TypeScript sources run by `node --import tsx`
 * (one process per coordinator or worker, so a pid is the process and SIGKILL reaches it),
 * with a time limit each. Every test kills what it started, by pid, in afterEach.
 */

export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(PACKAGE_DIR, 'src/cli.ts');
/** The built bin, as published (run `pnpm build` first; tests using it skip without it). */
export const BUILT_CLI = join(PACKAGE_DIR, 'dist/cli.js');
export const APPS_DIR = join(PACKAGE_DIR, 'test/apps');
/** The 8 Gutenberg texts, shared with examples/wordcount. */
export const GUTENBERG_DIR = join(PACKAGE_DIR, '../../examples/wordcount/data/gutenberg');
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Makes tsx map @flotilla/transport to its sources (tsconfig paths), so no build is needed. */
const TSCONFIG = join(PACKAGE_DIR, 'tsconfig.json');
export const AUTH_TOKEN = 'mapreduce-test-token';

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
  readonly cwd: string;
  /** SIGKILL and mark `timedOut` past this (the lab's 45 s; 120 s for crash). */
  readonly limitMs: number;
  readonly env?: Record<string, string>;
  /** Run this built JavaScript entry instead of the TypeScript sources. */
  readonly entry?: string;
}

export class Procs {
  readonly #all: Proc[] = [];

  /** Starts `flotilla-mapreduce <args>` from the sources (or `options.entry`). */
  start(name: string, args: readonly string[], options: StartOptions): Proc {
    const started = performance.now();
    const entry = options.entry === undefined ? ['--import', TSX_LOADER, CLI] : [options.entry];
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: options.cwd,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: TSCONFIG,
        FLOTILLA_AUTH_TOKEN: AUTH_TOKEN,
        ...options.env,
      },
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
    }, options.limitMs);
    const exited = new Promise<Exit>((resolve) => {
      child.on('exit', (code, signal) => {
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

  get all(): readonly Proc[] {
    return this.#all;
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

/** Waits for the coordinator's `{"event":"listening","url":…}` line; returns the URL. */
export async function listeningUrl(coordinator: Proc, timeoutMs = 20_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    for (const line of coordinator.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const record = JSON.parse(line) as { event?: string; url?: string };
      if (record.event === 'listening' && typeof record.url === 'string') return record.url;
    }
    if (!coordinator.running) {
      throw new Error(`coordinator exited before listening: ${coordinator.stderr}`);
    }
    if (performance.now() > deadline) throw new Error('coordinator did not start listening');
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface LabDir {
  readonly root: string;
  /** The working directory of every process (the lab's mr-tmp). */
  readonly work: string;
  /** Input paths as the processes see them: `../pg-*.txt`. */
  readonly inputs: readonly string[];
}

/** A temp dir with the 8 texts and an empty `mr-tmp/` beside them, as the lab's script has. */
export async function makeLabDir(): Promise<LabDir> {
  const root = await mkdtemp(join(tmpdir(), 'flotilla-mr-'));
  const names = (await readdir(GUTENBERG_DIR)).filter((n) => /^pg-.*\.txt$/.test(n)).sort();
  if (names.length !== 8)
    throw new Error(`expected 8 texts in ${GUTENBERG_DIR}, found ${names.length}`);
  await Promise.all(names.map((name) => copyFile(join(GUTENBERG_DIR, name), join(root, name))));
  const work = join(root, 'mr-tmp');
  await mkdir(work);
  return { root, work, inputs: names.map((name) => `../${name}`) };
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}

/** `sort mr-out* | grep .`: the non-empty lines of every mr-out* file, sorted. */
export async function sortedOutput(work: string): Promise<string[]> {
  const names = (await readdir(work)).filter((name) => name.startsWith('mr-out'));
  const lines: string[] = [];
  for (const name of names) {
    for (const line of (await readFile(join(work, name), 'utf8')).split('\n')) {
      if (line !== '') lines.push(line);
    }
  }
  return lines.sort();
}

/** Sorted non-empty lines of one file (the sequential oracle). */
export async function sortedLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .sort();
}

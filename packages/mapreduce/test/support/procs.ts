import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  Procs as BaseProcs,
  type Exit,
  type Proc,
  waitForOutput,
} from '@flotilla/devkit/proc/procs';

/**
 * Real processes for the lab's script: the CLI's TypeScript sources run by `node --import tsx`
 * (one process per coordinator or worker, so a pid is the process and SIGKILL reaches it),
 * with a time limit each. Every test kills what it started, by pid, in afterEach. The process
 * plumbing is @flotilla/devkit's.
 */

export { isAlive } from '@flotilla/devkit/proc/child';
export { sleep } from '@flotilla/devkit/time/within';
export type { Exit, Proc };

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

export interface StartOptions {
  readonly cwd: string;
  /** SIGKILL and mark `timedOut` past this (the lab's 45 s; 120 s for crash). */
  readonly limitMs: number;
  readonly env?: Record<string, string>;
  /** Run this built JavaScript entry instead of the TypeScript sources. */
  readonly entry?: string;
}

/** The CLI's processes (all, killAll: devkit's Procs). */
export class Procs extends BaseProcs {
  /** Starts `flotilla-mapreduce <args>` from the sources (or `options.entry`). */
  start(name: string, args: readonly string[], options: StartOptions): Proc {
    const entry = options.entry === undefined ? ['--import', TSX_LOADER, CLI] : [options.entry];
    return this.spawn(name, process.execPath, [...entry, ...args], {
      cwd: options.cwd,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: TSCONFIG,
        FLOTILLA_AUTH_TOKEN: AUTH_TOKEN,
        ...options.env,
      },
      limitMs: options.limitMs,
    });
  }
}

/** The URL of a `{"event":"listening","url":…}` line, if `stdout` holds one. */
function listeningRecord(stdout: string): string | undefined {
  // Whole lines only: the text after the last newline may still be being written.
  for (const line of stdout.split('\n').slice(0, -1)) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as { event?: string; url?: string };
    if (record.event === 'listening' && typeof record.url === 'string') return record.url;
  }
  return undefined;
}

/** Waits for the coordinator's `{"event":"listening","url":…}` line; returns the URL. */
export function listeningUrl(coordinator: Proc, timeoutMs = 20_000): Promise<string> {
  return waitForOutput(coordinator, listeningRecord, {
    what: 'its "listening" event',
    timeoutMs,
    everyMs: 20,
  });
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

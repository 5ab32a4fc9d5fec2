import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import {
  APPS_DIR,
  type Exit,
  type LabDir,
  listeningUrl,
  makeLabDir,
  type Proc,
  Procs,
  removeDir,
} from './procs.js';

/** The lab script's per-process time limit (the crash section gives 120 s). */
export const LIMIT_MS = 45_000;

/** A test app of test/apps by name. */
export const testApp = (name: string): string => join(APPS_DIR, `${name}.ts`);

/**
 * One test file's jobs: a fresh temp dir with the Gutenberg inputs before each test, and after
 * it every process killed by pid and the dir removed. Create one at the top of a test file.
 */
export class LabJob {
  readonly procs = new Procs();
  #lab: LabDir | undefined;

  constructor() {
    beforeEach(async () => {
      this.#lab = await makeLabDir();
    });
    afterEach(async () => {
      await this.procs.killAll();
      await removeDir(this.#lab?.root);
    });
  }

  /** The current test's dir: `work` (where processes run), `inputs`, `root`. */
  get lab(): LabDir {
    if (this.#lab === undefined) throw new Error('LabJob.lab used outside a test');
    return this.#lab;
  }

  /** `flotilla-mapreduce <args>` in the lab's work dir. */
  start(name: string, args: readonly string[], limitMs = LIMIT_MS): Proc {
    return this.procs.start(name, args, { cwd: this.lab.work, limitMs });
  }

  async startCoordinator(
    options: { inputs?: readonly string[]; limitMs?: number } = {},
  ): Promise<{ coordinator: Proc; url: string }> {
    const inputs = options.inputs ?? this.lab.inputs;
    const coordinator = this.start(
      'coordinator',
      ['coordinator', '--json', ...inputs],
      options.limitMs,
    );
    return { coordinator, url: await listeningUrl(coordinator) };
  }

  startWorker(url: string, appSpec: string, limitMs = LIMIT_MS): Proc {
    return this.start('worker', ['worker', '--coordinator', url, '--app', appSpec], limitMs);
  }
}

/** The process ended within its time limit, with exit code `code` (or any code). */
export function expectExit(exit: Exit, proc: Proc, code: number | 'any'): void {
  const context = `${proc.name} ${proc.pid}: ${JSON.stringify(exit)}\n${proc.stderr}`;
  expect(exit.timedOut, `${context}\nran past its time limit`).toBe(false);
  if (code !== 'any') expect(exit.code, context).toBe(code);
}

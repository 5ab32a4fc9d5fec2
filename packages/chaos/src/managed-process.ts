import { spawn } from 'node:child_process';
import type { Clock } from '@flotilla/transport';
import { ChaosError } from './errors.js';
import { OutputBuffer } from './output-buffer.js';

/** What to run: the same spec is run again by `restart`. */
export interface ProcessSpec {
  readonly command: string;
  readonly args?: readonly string[];
  /** The whole environment (default: this process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

/** `running` → `paused` (SIGSTOP) → `running` (SIGCONT) …, and at last `exited`. */
export type ProcessState = 'running' | 'paused' | 'exited';

export interface ProcessExit {
  readonly name: string;
  readonly pid: number;
  /** 0 for the first spawn of this name, then 1, 2, … (each restart). */
  readonly generation: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /**
   * True when the supervisor had sent a signal meant to end it (kill, terminate, restart,
   * stopAll) before it exited; false for an exit of its own (a crash, a clean return).
   */
  readonly expected: boolean;
}

/**
 * After the exit, how long to wait for stdout and stderr to close: a grandchild that inherited
 * them could hold them open forever, and `exited` must not hang on it.
 */
const CLOSE_GRACE_MS = 2000;

/** One run of one named process: from its spawn to its exit, with its output. */
export class ManagedProcess {
  readonly name: string;
  readonly spec: ProcessSpec;
  readonly generation: number;
  readonly pid: number;
  readonly output: OutputBuffer;
  /** Resolves once the process has exited and its output has been read to the end. */
  readonly exited: Promise<ProcessExit>;
  #state: ProcessState = 'running';
  #expected = false;

  /** Starts `spec`; throws ERR_SPAWN if the OS cannot (no such command or cwd). */
  constructor(name: string, spec: ProcessSpec, generation: number, clock: Clock) {
    this.name = name;
    this.spec = spec;
    this.generation = generation;
    this.output = new OutputBuffer();
    const child = spawn(spec.command, [...(spec.args ?? [])], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    // The 'error' of a failed spawn comes later; without a listener it would crash the host.
    child.on('error', () => {});
    if (child.pid === undefined) {
      throw new ChaosError(
        'ERR_SPAWN',
        `cannot start ${name}: ${spec.command} (cwd ${spec.cwd ?? process.cwd()})`,
      );
    }
    this.pid = child.pid;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.output.write('stdout', chunk);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.output.write('stderr', chunk);
    });
    child.stdout?.on('end', () => this.output.end('stdout'));
    child.stderr?.on('end', () => this.output.end('stderr'));
    this.exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#state = 'exited';
        const exit: ProcessExit = {
          name,
          pid: this.pid,
          generation,
          code,
          signal,
          expected: this.#expected,
        };
        const grace = clock.setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve(exit);
        }, CLOSE_GRACE_MS);
        child.once('close', () => {
          clock.clearTimeout(grace);
          resolve(exit);
        });
      });
    });
  }

  get state(): ProcessState {
    return this.#state;
  }

  /**
   * Sends `signal` by pid. `ending` marks the exit that follows as expected. A process that
   * is already gone is not an error here: the caller checked the state, the OS may be faster.
   */
  signal(signal: NodeJS.Signals, ending: boolean): void {
    if (this.#state === 'exited') return;
    if (ending) this.#expected = true;
    try {
      process.kill(this.pid, signal);
    } catch {
      return;
    }
    if (signal === 'SIGSTOP') this.#state = 'paused';
    else if (signal === 'SIGCONT') this.#state = 'running';
  }
}

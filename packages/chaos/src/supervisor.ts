import { type Clock, realClock } from '@flotilla/transport';
import { ChaosError, configError } from './errors.js';
import {
  ManagedProcess,
  type ProcessExit,
  type ProcessSpec,
  type ProcessState,
} from './managed-process.js';
import type { OutputLine } from './output-buffer.js';

export interface SupervisorOptions {
  /** Timers of terminate and waitForOutput (default the real clock). */
  readonly clock?: Clock;
  /**
   * While any child is alive, a `process.on('exit')` hook SIGKILLs them all by pid, so a host
   * that exits (a crashed test runner included) leaves none behind. Default true. The hook is
   * the only global thing the supervisor installs, and it is removed once no child is alive.
   */
  readonly killOnExit?: boolean;
}

export const DEFAULT_TERMINATE_TIMEOUT_MS = 5000;

/**
 * Starts named child processes and does to them what a chaos test needs: kill, terminate,
 * pause, resume, restart; reads their output and tells every exit, marked expected (the
 * supervisor ended it) or not (the process's own). Every signal goes to a pid the supervisor
 * started itself, never to a group or a name.
 */
export class Supervisor {
  readonly #clock: Clock;
  readonly #killOnExit: boolean;
  readonly #procs = new Map<string, ManagedProcess>();
  readonly #live = new Set<ManagedProcess>();
  readonly #listeners = new Set<(exit: ProcessExit) => void>();
  readonly #hook = (): void => {
    for (const proc of this.#live) {
      proc.signal('SIGCONT', true);
      proc.signal('SIGKILL', true);
    }
  };

  constructor(options: SupervisorOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#killOnExit = options.killOnExit ?? true;
  }

  /**
   * Starts `spec` as `name` and returns its pid. A name may be reused once its process has
   * exited; a name whose process runs is ERR_PROCESS_STATE; a failed start is ERR_SPAWN.
   */
  spawn(name: string, spec: ProcessSpec): number {
    if (typeof name !== 'string' || name === '')
      throw configError('name', 'must be a non-empty string');
    if (typeof spec?.command !== 'string' || spec.command === '') {
      throw configError('spec.command', 'must be a non-empty string');
    }
    const previous = this.#procs.get(name);
    if (previous !== undefined && previous.state !== 'exited') {
      throw stateError(name, previous.state, 'spawn');
    }
    return this.#start(name, spec, previous === undefined ? 0 : previous.generation + 1).pid;
  }

  /** The names of every process started, running or not. */
  names(): string[] {
    return [...this.#procs.keys()];
  }

  state(name: string): ProcessState {
    return this.#get(name).state;
  }

  /** The pid of the latest run of `name`. */
  pid(name: string): number {
    return this.#get(name).pid;
  }

  /** The latest run's stdout and stderr lines (the last 2000; see OutputBuffer). */
  output(name: string): readonly OutputLine[] {
    return this.#get(name).output.lines;
  }

  /** Resolves with the latest run's exit, once its output is read to the end. */
  exited(name: string): Promise<ProcessExit> {
    return this.#get(name).exited;
  }

  /** SIGKILL (an expected exit); resolves with the exit. */
  kill(name: string): Promise<ProcessExit> {
    const proc = this.#alive(name, 'kill');
    proc.signal('SIGKILL', true);
    return proc.exited;
  }

  /** SIGTERM (after SIGCONT, if paused), then SIGKILL if it has not exited within `timeoutMs`. */
  async terminate(name: string, timeoutMs = DEFAULT_TERMINATE_TIMEOUT_MS): Promise<ProcessExit> {
    const proc = this.#alive(name, 'terminate');
    if (!(timeoutMs >= 0)) throw configError('timeoutMs', `must be >= 0, got ${timeoutMs}`);
    // A stopped process keeps SIGTERM pending until it runs again.
    if (proc.state === 'paused') proc.signal('SIGCONT', true);
    proc.signal('SIGTERM', true);
    const timer = this.#clock.setTimeout(() => proc.signal('SIGKILL', true), timeoutMs);
    try {
      return await proc.exited;
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  /** SIGSTOP: the process freezes mid-whatever, its sockets open (a GC pause, a VM stall). */
  pause(name: string): void {
    const proc = this.#get(name);
    if (proc.state !== 'running') throw stateError(name, proc.state, 'pause');
    proc.signal('SIGSTOP', false);
  }

  /** SIGCONT of a paused process. */
  resume(name: string): void {
    const proc = this.#get(name);
    if (proc.state !== 'paused') throw stateError(name, proc.state, 'resume');
    proc.signal('SIGCONT', false);
  }

  /** SIGKILLs the latest run if alive (an expected exit), waits, and starts the same spec again. */
  async restart(name: string): Promise<number> {
    const proc = this.#get(name);
    if (proc.state !== 'exited') {
      proc.signal('SIGKILL', true);
      await proc.exited;
    }
    const current = this.#procs.get(name);
    if (current !== proc)
      throw new ChaosError('ERR_PROCESS_STATE', `${name} was respawned meanwhile`);
    return this.#start(name, proc.spec, proc.generation + 1).pid;
  }

  /** Calls `listener` with every exit from now on; returns the unsubscribe. */
  onExit(listener: (exit: ProcessExit) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Resolves with the first line of the latest run of `name` (printed so far or later, either
   * stream) that `pattern` matches. ERR_WAIT_TIMEOUT after `timeoutMs`; ERR_PROCESS_STATE if
   * the process exits without printing it.
   */
  waitForOutput(name: string, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const proc = this.#get(name);
    if (!(timeoutMs >= 0)) throw configError('timeoutMs', `must be >= 0, got ${timeoutMs}`);
    // Without g or y, exec keeps no lastIndex between lines.
    const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    const find = (): RegExpExecArray | undefined => {
      for (const line of proc.output.lines) {
        const match = re.exec(line.text);
        if (match !== null) return match;
      }
      return undefined;
    };
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<RegExpExecArray>((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        unsubscribe();
        this.#clock.clearTimeout(timer);
        settle();
      };
      const unsubscribe = proc.output.onLine((line) => {
        const match = re.exec(line.text);
        if (match !== null) finish(() => resolve(match));
      });
      const timer = this.#clock.setTimeout(() => {
        finish(() =>
          reject(
            new ChaosError(
              'ERR_WAIT_TIMEOUT',
              `${name} printed no line matching ${re} within ${timeoutMs} ms`,
            ),
          ),
        );
      }, timeoutMs);
      void proc.exited.then((exit) => {
        const last = find();
        finish(() =>
          last !== undefined
            ? resolve(last)
            : reject(
                new ChaosError(
                  'ERR_PROCESS_STATE',
                  `${name} exited (code ${exit.code}, signal ${exit.signal}) before printing a line matching ${re}`,
                ),
              ),
        );
      });
    });
  }

  /** Ends every live process it started, by pid (SIGCONT first if paused, then SIGKILL), and waits. */
  async stopAll(): Promise<void> {
    const live = [...this.#live];
    for (const proc of live) {
      if (proc.state === 'paused') proc.signal('SIGCONT', true);
      proc.signal('SIGKILL', true);
    }
    await Promise.all(live.map((proc) => proc.exited));
  }

  #start(name: string, spec: ProcessSpec, generation: number): ManagedProcess {
    let proc: ManagedProcess;
    try {
      proc = new ManagedProcess(name, spec, generation, this.#clock);
    } catch (err) {
      if (err instanceof ChaosError) throw err;
      throw new ChaosError('ERR_SPAWN', `cannot start ${name}: ${String(err)}`, { cause: err });
    }
    this.#procs.set(name, proc);
    this.#live.add(proc);
    if (this.#live.size === 1 && this.#killOnExit) process.on('exit', this.#hook);
    void proc.exited.then((exit) => {
      this.#live.delete(proc);
      if (this.#live.size === 0 && this.#killOnExit) process.off('exit', this.#hook);
      for (const listener of this.#listeners) listener(exit);
    });
    return proc;
  }

  #get(name: string): ManagedProcess {
    const proc = this.#procs.get(name);
    if (proc === undefined) throw new ChaosError('ERR_UNKNOWN_PROCESS', `no process named ${name}`);
    return proc;
  }

  #alive(name: string, action: string): ManagedProcess {
    const proc = this.#get(name);
    if (proc.state === 'exited') throw stateError(name, proc.state, action);
    return proc;
  }
}

function stateError(name: string, state: ProcessState, action: string): ChaosError {
  return new ChaosError('ERR_PROCESS_STATE', `cannot ${action} ${name}: it is ${state}`);
}

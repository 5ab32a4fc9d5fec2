import { UnknownTaskError } from './errors.js';
import type { TaskKind } from './protocol.js';
import type { TaskStats } from './tasks.js';

/**
 * The coordinator's bookkeeping as a synchronous state machine: no clock, no sockets. Every
 * method takes `now` (milliseconds on any monotonic clock) where time matters, so tests drive
 * it exactly and the driver (coordinator.ts) only adds timers and RPC.
 *
 * Invariants:
 * - Reduce tasks are handed out only once every map task is done.
 * - A task is `running` from its hand-out until `deadline`; past it the task is `idle` again
 *   and is handed to the next worker that asks (the first worker may be dead or slow; both
 *   may finish, and the first completion counts).
 * - `done` and `failed` are final.
 */

export type Phase = 'map' | 'reduce' | 'done' | 'failed';
export type TaskStatus = 'idle' | 'running' | 'done';

export interface MapInput {
  /** The name map is called with. */
  readonly filename: string;
  /** Where workers read it. */
  readonly path: string;
  readonly bytes: number;
}

interface Task {
  readonly kind: TaskKind;
  readonly id: number;
  status: TaskStatus;
  /** Hand-outs so far; the current one is `attempts`. */
  attempts: number;
  deadline: number;
  failures: number;
  stats: TaskStats | undefined;
}

export type Assignment =
  | {
      readonly kind: 'map';
      readonly taskId: number;
      readonly attempt: number;
      readonly input: MapInput;
    }
  | { readonly kind: 'reduce'; readonly taskId: number; readonly attempt: number };

export interface JobFailure {
  readonly kind: TaskKind;
  readonly taskId: number;
  /** The input file, for a map task. */
  readonly filename: string | undefined;
  readonly code: string;
  readonly message: string;
  readonly workerId: string;
}

export interface CoreCounts {
  readonly phase: Phase;
  readonly mapDone: number;
  readonly mapTotal: number;
  readonly reduceDone: number;
  readonly reduceTotal: number;
  /** Tasks handed out again because their deadline passed. */
  readonly reassigned: number;
  /** Attempts that reported failure. */
  readonly failedAttempts: number;
  /** Completions of tasks that were already done (redundant work after a reassignment). */
  readonly duplicates: number;
  /** Input bytes of finished map tasks. */
  readonly bytesMapped: number;
}

export interface CoreOptions {
  readonly inputs: readonly MapInput[];
  readonly nReduce: number;
  /** A running task is handed out again after this long (the lab's 10 s). */
  readonly taskTimeoutMs: number;
  /** The job fails when one task has failed this many times. */
  readonly maxTaskFailures: number;
}

export class CoordinatorCore {
  readonly inputs: readonly MapInput[];
  readonly nReduce: number;
  readonly taskTimeoutMs: number;
  readonly maxTaskFailures: number;
  readonly #map: Task[];
  readonly #reduce: Task[];
  #phase: Phase;
  #mapDone = 0;
  #reduceDone = 0;
  #reassigned = 0;
  #failedAttempts = 0;
  #duplicates = 0;
  #bytesMapped = 0;
  #failure: JobFailure | undefined;

  constructor(options: CoreOptions) {
    if (!Number.isSafeInteger(options.nReduce) || options.nReduce < 1) {
      throw new RangeError(`nReduce must be a positive integer, got ${options.nReduce}`);
    }
    this.taskTimeoutMs = options.taskTimeoutMs;
    this.maxTaskFailures = options.maxTaskFailures;
    this.inputs = options.inputs;
    this.nReduce = options.nReduce;
    this.#map = options.inputs.map((_, id) => newTask('map', id));
    this.#reduce = Array.from({ length: options.nReduce }, (_, id) => newTask('reduce', id));
    // No input files: nothing to map, and the reduce tasks write empty outputs.
    this.#phase = this.#map.length === 0 ? 'reduce' : 'map';
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** Why the job failed, once `phase` is `failed`. */
  get failure(): JobFailure | undefined {
    return this.#failure;
  }

  /** The next task for a worker, `wait` when none can be handed out now, `exit` when over. */
  assign(now: number): Assignment | 'wait' | 'exit' {
    this.expire(now);
    if (this.#phase === 'done' || this.#phase === 'failed') return 'exit';
    const tasks = this.#phase === 'map' ? this.#map : this.#reduce;
    const task = tasks.find((t) => t.status === 'idle');
    if (task === undefined) return 'wait';
    task.status = 'running';
    task.attempts++;
    task.deadline = now + this.taskTimeoutMs;
    if (task.kind === 'map') {
      const input = this.inputs[task.id] as MapInput;
      return { kind: 'map', taskId: task.id, attempt: task.attempts, input };
    }
    return { kind: 'reduce', taskId: task.id, attempt: task.attempts };
  }

  /**
   * Records a finished attempt. Returns false when the task was already done (another attempt
   * finished first). Throws `UnknownTaskError` for a task or attempt never handed out.
   */
  complete(kind: TaskKind, taskId: number, attempt: number, stats: TaskStats): boolean {
    const task = this.#task(kind, taskId, attempt);
    if (task.status === 'done') {
      this.#duplicates++;
      return false;
    }
    if (this.#phase === 'failed') return false;
    task.status = 'done';
    task.stats = stats;
    if (kind === 'map') {
      this.#mapDone++;
      this.#bytesMapped += stats.inputBytes;
      if (this.#mapDone === this.#map.length) this.#phase = 'reduce';
    } else {
      this.#reduceDone++;
      if (this.#reduceDone === this.#reduce.length) this.#phase = 'done';
    }
    return true;
  }

  /**
   * Records a failed attempt: the task is handed out again at once, unless it has now failed
   * `maxTaskFailures` times, which fails the job. Returns false when the failure changes
   * nothing (the task was done by another attempt, or the job is already over).
   */
  fail(
    kind: TaskKind,
    taskId: number,
    attempt: number,
    error: { code: string; message: string },
    workerId: string,
  ): boolean {
    const task = this.#task(kind, taskId, attempt);
    if (task.status === 'done' || this.#phase === 'done' || this.#phase === 'failed') return false;
    this.#failedAttempts++;
    task.failures++;
    // Only the current attempt's failure frees the task; an older attempt failing says nothing
    // about the newer one that is still running.
    if (task.status === 'running' && attempt === task.attempts) task.status = 'idle';
    if (task.failures >= this.maxTaskFailures) {
      this.#phase = 'failed';
      this.#failure = {
        kind,
        taskId,
        filename: kind === 'map' ? this.inputs[taskId]?.filename : undefined,
        code: error.code,
        message: error.message,
        workerId,
      };
    }
    return true;
  }

  /** Makes every running task past its deadline idle again. Returns how many. */
  expire(now: number): number {
    if (this.#phase !== 'map' && this.#phase !== 'reduce') return 0;
    let expired = 0;
    for (const task of this.#phase === 'map' ? this.#map : this.#reduce) {
      if (task.status === 'running' && task.deadline <= now) {
        task.status = 'idle';
        expired++;
      }
    }
    this.#reassigned += expired;
    return expired;
  }

  /** The earliest deadline of a running task, if any. */
  nextDeadline(): number | undefined {
    if (this.#phase !== 'map' && this.#phase !== 'reduce') return undefined;
    let next: number | undefined;
    for (const task of this.#phase === 'map' ? this.#map : this.#reduce) {
      if (task.status === 'running' && (next === undefined || task.deadline < next)) {
        next = task.deadline;
      }
    }
    return next;
  }

  /** How many tasks are idle in the current phase (could be handed out right now). */
  idleTasks(): number {
    if (this.#phase !== 'map' && this.#phase !== 'reduce') return 0;
    return (this.#phase === 'map' ? this.#map : this.#reduce).filter((t) => t.status === 'idle')
      .length;
  }

  counts(): CoreCounts {
    return {
      phase: this.#phase,
      mapDone: this.#mapDone,
      mapTotal: this.#map.length,
      reduceDone: this.#reduceDone,
      reduceTotal: this.#reduce.length,
      reassigned: this.#reassigned,
      failedAttempts: this.#failedAttempts,
      duplicates: this.#duplicates,
      bytesMapped: this.#bytesMapped,
    };
  }

  /** Status of one task (for tests and diagnostics). */
  status(kind: TaskKind, taskId: number): { status: TaskStatus; attempts: number } | undefined {
    const task = (kind === 'map' ? this.#map : this.#reduce)[taskId];
    return task === undefined ? undefined : { status: task.status, attempts: task.attempts };
  }

  #task(kind: TaskKind, taskId: number, attempt: number): Task {
    const task = (kind === 'map' ? this.#map : this.#reduce)[taskId];
    if (task === undefined) throw new UnknownTaskError(`there is no ${kind} task ${taskId}`);
    if (attempt < 1 || attempt > task.attempts) {
      throw new UnknownTaskError(
        `${kind} task ${taskId} attempt ${attempt} was never handed out (${task.attempts} so far)`,
      );
    }
    return task;
  }
}

function newTask(kind: TaskKind, id: number): Task {
  return { kind, id, status: 'idle', attempts: 0, deadline: 0, failures: 0, stats: undefined };
}
